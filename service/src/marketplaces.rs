//! Facts about Amazon's marketplaces that are not in the `marketplaces` table.

/// The Seller Central site where a seller of the marketplace in `country_code`
/// (ISO 3166, as in the `marketplaces` table) manages it, e.g.
/// `https://sellercentral.amazon.com`; `None` for a country without one we know.
#[must_use]
pub fn seller_central(country_code: &str) -> Option<&'static str> {
    Some(match country_code.to_ascii_uppercase().as_str() {
        "US" => "https://sellercentral.amazon.com",
        "CA" => "https://sellercentral.amazon.ca",
        "MX" => "https://sellercentral.amazon.com.mx",
        "BR" => "https://sellercentral.amazon.com.br",
        "GB" | "UK" => "https://sellercentral.amazon.co.uk",
        "IE" => "https://sellercentral.amazon.ie",
        "DE" => "https://sellercentral.amazon.de",
        "FR" => "https://sellercentral.amazon.fr",
        "IT" => "https://sellercentral.amazon.it",
        "ES" => "https://sellercentral.amazon.es",
        "NL" => "https://sellercentral.amazon.nl",
        "SE" => "https://sellercentral.amazon.se",
        "PL" => "https://sellercentral.amazon.pl",
        "BE" => "https://sellercentral.amazon.com.be",
        "TR" => "https://sellercentral.amazon.com.tr",
        "AE" => "https://sellercentral.amazon.ae",
        "SA" => "https://sellercentral.amazon.sa",
        "EG" => "https://sellercentral.amazon.eg",
        "IN" => "https://sellercentral.amazon.in",
        "ZA" => "https://sellercentral.amazon.co.za",
        "JP" => "https://sellercentral.amazon.co.jp",
        "AU" => "https://sellercentral.amazon.com.au",
        "SG" => "https://sellercentral.amazon.sg",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::seller_central;

    #[test]
    fn every_marketplace_country_has_its_seller_central_and_an_unknown_one_none() {
        assert_eq!(
            seller_central("us"),
            Some("https://sellercentral.amazon.com")
        );
        assert_eq!(
            seller_central("JP"),
            Some("https://sellercentral.amazon.co.jp")
        );
        assert_eq!(seller_central("XX"), None);
    }
}
