//! A CSV of listing changes: `sku,marketplace_id,price,quantity`, a header line
//! first (columns in any order, names as given), a price or a quantity (or both)
//! per line. Fields may be quoted (`"a,b"`, `""` for a quote). Every bad line is
//! reported with its number; a file with one is not queued at all.

use super::{ChangeRequest, RowProblem};

/// Longest CSV accepted (about 50 000 lines).
pub const MAX_CSV_BYTES: usize = 2 * 1024 * 1024;

const COLUMNS: [&str; 4] = ["sku", "marketplace_id", "price", "quantity"];

/// Splits one line into fields.
fn fields(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            (false, '"') => return Err("a quote inside an unquoted field".to_owned()),
            (false, ',') => {
                out.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".to_owned());
    }
    out.push(field);
    Ok(out)
}

/// Reads a CSV of changes, each with its line number.
///
/// # Errors
/// Every bad line, with its number and what is wrong.
pub fn parse_csv(text: &str) -> Result<Vec<(usize, ChangeRequest)>, Vec<RowProblem>> {
    if text.len() > MAX_CSV_BYTES {
        return Err(vec![RowProblem {
            line: 0,
            message: format!("the file is larger than {MAX_CSV_BYTES} bytes; split it"),
        }]);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    let Some((_, header)) = lines.by_ref().find(|(_, l)| !l.trim().is_empty()) else {
        return Err(vec![RowProblem {
            line: 1,
            message: format!(
                "the file is empty; its first line must be {}",
                COLUMNS.join(",")
            ),
        }]);
    };
    let names: Vec<String> = match fields(header) {
        Ok(f) => f
            .into_iter()
            .map(|n| n.trim().to_ascii_lowercase())
            .collect(),
        Err(e) => {
            return Err(vec![RowProblem {
                line: 1,
                message: e,
            }]);
        }
    };
    let position = |name: &str| names.iter().position(|n| n == name);
    let (Some(sku), Some(mp), Some(price), Some(quantity)) = (
        position("sku"),
        position("marketplace_id"),
        position("price"),
        position("quantity"),
    ) else {
        return Err(vec![RowProblem {
            line: 1,
            message: format!(
                "the header must name the columns {} (it names {})",
                COLUMNS.join(","),
                names.join(",")
            ),
        }]);
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (line, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        let row = match fields(text) {
            Ok(r) => r,
            Err(message) => {
                problems.push(RowProblem { line, message });
                continue;
            }
        };
        if row.len() != names.len() {
            problems.push(RowProblem {
                line,
                message: format!("{} fields where the header has {}", row.len(), names.len()),
            });
            continue;
        }
        let cell = |i: usize| Some(row[i].trim()).filter(|s| !s.is_empty());
        let quantity = match cell(quantity).map(str::parse::<i64>) {
            Some(Err(_)) => {
                problems.push(RowProblem {
                    line,
                    message: format!("quantity {:?} is not a whole number", row[quantity].trim()),
                });
                continue;
            }
            Some(Ok(q)) => Some(q),
            None => None,
        };
        out.push((
            line,
            ChangeRequest {
                seller_sku: row[sku].trim().to_owned(),
                marketplace_id: row[mp].trim().to_owned(),
                price: cell(price).map(str::to_owned),
                quantity,
            },
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if out.is_empty() {
        return Err(vec![RowProblem {
            line: 2,
            message: "the file has a header and no changes".to_owned(),
        }]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_quoted_fields_reads_each_line_with_its_number() {
        let rows = parse_csv(
            "sku,marketplace_id,price,quantity\r\n\"MUG,01\",ATVPDKIKX0DER,19.99,\n\nTEE,ATVPDKIKX0DER,,4\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.seller_sku, "MUG,01");
        assert_eq!(rows[0].1.price.as_deref(), Some("19.99"));
        assert_eq!(rows[0].1.quantity, None);
        assert_eq!(rows[1].0, 4);
        assert_eq!(rows[1].1.quantity, Some(4));
    }

    #[test]
    fn bad_lines_are_all_reported_with_their_numbers() {
        let e = parse_csv("sku,marketplace_id,price,quantity\nA,M,1,x\nB,M,1\nC,M,\"2,1\n")
            .unwrap_err();
        let lines: Vec<usize> = e.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 3, 4], "{e:?}");
    }

    #[test]
    fn a_header_without_the_columns_is_refused() {
        let e = parse_csv("sku,price\nA,1\n").unwrap_err();
        assert_eq!(e[0].line, 1);
        assert!(e[0].message.contains("marketplace_id"), "{e:?}");
    }
}
