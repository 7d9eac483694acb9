-- Fills a migrated database with a large seller's history for the load test:
-- :orders orders (default 1,000,000) over two years in four NA marketplaces, three
-- items each from a catalogue of 500 SKUs, statuses in realistic proportions, and a
-- raw payload of the size Amazon's are. Order ids (9xx-…) never collide with
-- spapi-sim's, so a sync can run on top of this data.
--
--   psql "$URL" -v orders=1000000 -f scripts/load/seed.sql
\set ON_ERROR_STOP on
\if :{?orders}
\else
  \set orders 1000000
\endif

BEGIN;
-- One row per generated order; the hash h drives every "random" choice, so the
-- same :orders gives the same data.
CREATE TEMP TABLE seed_order ON COMMIT DROP AS
SELECT g,
       h,
       (ARRAY['ATVPDKIKX0DER','ATVPDKIKX0DER','ATVPDKIKX0DER','ATVPDKIKX0DER',
              'ATVPDKIKX0DER','ATVPDKIKX0DER','A2EUQ1WTGCTBG2','A2EUQ1WTGCTBG2',
              'A1AM78C64UM0Y8','A2Q3Y263D00KWC'])[1 + h % 10] AS marketplace_id,
       (ARRAY['USD','USD','USD','USD','USD','USD','CAD','CAD','MXN','BRL'])[1 + h % 10] AS currency,
       -- one order every ~63 s over two years, newest now
       now() - make_interval(secs => g * 63.0 + (h % 60)) AS purchase_date,
       CASE
         WHEN h % 1000 < 850 THEN 'Shipped'
         WHEN h % 1000 < 900 THEN 'Unshipped'
         WHEN h % 1000 < 940 THEN 'Canceled'
         WHEN h % 1000 < 970 THEN 'Pending'
         WHEN h % 1000 < 985 THEN 'PartiallyShipped'
         WHEN h % 1000 < 995 THEN 'InvoiceUnconfirmed'
         ELSE 'Unfulfillable'
       END AS order_status
FROM (SELECT g, abs(hashint8(g)) AS h FROM generate_series(1, :orders) AS g) s;

INSERT INTO amazon_order (amazon_order_id, marketplace_id, purchase_date, last_update_date,
       order_status, fulfillment_channel, order_total_currency, order_total_amount,
       number_of_items_shipped, number_of_items_unshipped, is_prime, is_business_order,
       raw_payload, created_at, updated_at)
SELECT o.amazon_order_id, o.marketplace_id, o.purchase_date,
       o.purchase_date + make_interval(hours => (o.h % 72)::int),
       o.order_status,
       CASE WHEN o.h % 3 = 0 THEN 'MFN' ELSE 'AFN' END,
       CASE WHEN o.order_status = 'Pending' THEN NULL ELSE o.currency END,
       CASE WHEN o.order_status = 'Pending' THEN NULL ELSE o.total END,
       CASE WHEN o.order_status IN ('Shipped','InvoiceUnconfirmed') THEN 3 ELSE 0 END,
       CASE WHEN o.order_status IN ('Shipped','InvoiceUnconfirmed','Canceled') THEN 0 ELSE 3 END,
       o.h % 2 = 0, o.h % 17 = 0,
       jsonb_build_object(
         'AmazonOrderId', o.amazon_order_id,
         'SellerOrderId', o.amazon_order_id,
         'MarketplaceId', o.marketplace_id,
         'PurchaseDate', to_char(o.purchase_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
         'OrderStatus', o.order_status,
         'FulfillmentChannel', CASE WHEN o.h % 3 = 0 THEN 'MFN' ELSE 'AFN' END,
         'SalesChannel', 'Amazon.com',
         'ShipServiceLevel', 'Std US D2D Dom',
         'OrderTotal', jsonb_build_object('CurrencyCode', o.currency, 'Amount', o.total::text),
         'NumberOfItemsShipped', 3, 'NumberOfItemsUnshipped', 0,
         'PaymentMethod', 'Other', 'PaymentMethodDetails', jsonb_build_array('Standard'),
         'OrderType', 'StandardOrder',
         'EarliestShipDate', '2026-01-01T08:00:00Z', 'LatestShipDate', '2026-01-03T07:59:59Z',
         'IsBusinessOrder', o.h % 17 = 0, 'IsPrime', o.h % 2 = 0,
         'IsPremiumOrder', false, 'IsGlobalExpressEnabled', false, 'IsReplacementOrder', false,
         'IsSoldByAB', false, 'IsISPU', false, 'IsAccessPointOrder', false,
         'ShippingAddress', jsonb_build_object('StateOrRegion', 'WA', 'PostalCode', '98101',
                                               'City', 'SEATTLE', 'CountryCode', 'US'),
         'BuyerInfo', jsonb_build_object('BuyerEmail', 'buyer@marketplace.amazon.com')),
       o.purchase_date, o.purchase_date
FROM (SELECT s.*,
             format('9%s%s-%s-%s', s.h % 10, s.g % 10, lpad((s.g % 10000000)::text, 7, '0'),
                    lpad((s.h % 10000000)::text, 7, '0')) AS amazon_order_id,
             round(((s.h % 20000) + 500) / 100.0 * 3, 2) AS total
      FROM seed_order s) o;

INSERT INTO amazon_order_item (order_item_id, amazon_order_id, marketplace_id, seller_sku,
       asin, title, quantity_ordered, quantity_shipped, item_price_currency, item_price_amount,
       raw_payload, order_purchase_date, created_at, updated_at)
SELECT lpad((o.g * 3 + k)::text, 14, '0'),
       o.amazon_order_id, o.marketplace_id, i.sku, i.asin, i.title,
       1, CASE WHEN o.order_status IN ('Shipped','InvoiceUnconfirmed') THEN 1 ELSE 0 END,
       o.order_total_currency,
       CASE WHEN o.order_total_amount IS NULL THEN NULL ELSE round(o.order_total_amount / 3, 2) END,
       jsonb_build_object('OrderItemId', lpad((o.g * 3 + k)::text, 14, '0'),
                          'SellerSKU', i.sku, 'ASIN', i.asin, 'Title', i.title,
                          'QuantityOrdered', 1, 'QuantityShipped', 1,
                          'ItemPrice', jsonb_build_object('CurrencyCode', o.order_total_currency,
                                                          'Amount', round(coalesce(o.order_total_amount, 0) / 3, 2)::text),
                          'IsGift', false, 'ConditionId', 'New', 'IsTransparency', false),
       o.purchase_date, o.purchase_date, o.purchase_date
FROM (SELECT a.*, row_number() OVER (ORDER BY a.id) AS g FROM amazon_order a
      WHERE a.amazon_order_id LIKE '9%') o
CROSS JOIN generate_series(0, 2) AS k
CROSS JOIN LATERAL (
  -- a skewed catalogue: SKU n is chosen about twice as often as SKU 2n
  SELECT format('SKU-%s', lpad(n::text, 4, '0')) AS sku,
         format('B0%s', lpad((n * 7919)::text, 8, '0')) AS asin,
         format('Product %s, a thing people buy, size %s', n, n % 5) AS title
  FROM (SELECT 1 + (floor(500 ^ ((abs(hashint8(o.g * 3 + k)) % 10000) / 10000.0)))::int - 1 AS n) x
) i;
COMMIT;
ANALYZE amazon_order;
ANALYZE amazon_order_item;
SELECT count(*) AS orders FROM amazon_order;
SELECT count(*) AS items FROM amazon_order_item;
