#!/usr/bin/env python3
"""Writes the GraphQL request bodies of scripts/load-test, one JSON per line, into
DIR/<kind>.jsonl, plus DIR/mix.jsonl (every paging/filter kind in equal shares).

    bodies.py DIR CURSORS_FILE

CURSORS_FILE holds "purchase_date_rfc3339 id" lines sampled from amazon_order; each
becomes a keyset cursor exactly as the api makes them (base64url of
"order|<time>|<id>"), so "later page" requests start deep inside the list.
"""
import base64
import json
import sys
from datetime import datetime, timedelta

out, cursors_file = sys.argv[1], sys.argv[2]
PAGE = """query($first: Int!, $after: String, $filter: AmazonOrderFilter) {
  amazonOrders(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { amazonOrderId marketplaceId purchaseDate orderStatus
      orderTotal { amount currencyCode }
      items { sellerSku asin quantityOrdered itemPrice { amount currencyCode } } } }
  }
}"""
COUNT = PAGE.replace("pageInfo {", "totalCount pageInfo {")


def body(query=PAGE, after=None, filt=None):
    variables = {"first": 50}
    if after:
        variables["after"] = after
    if filt:
        variables["filter"] = filt
    return json.dumps({"query": " ".join(query.split()), "variables": variables})


samples = []
with open(cursors_file) as f:
    for line in f:
        at, oid = line.split()
        samples.append((at, int(oid)))
cursors = [
    base64.urlsafe_b64encode(f"order|{at}|{oid}".encode()).decode().rstrip("=")
    for at, oid in samples
]
now = datetime.utcnow()
kinds = {
    "first_page": [body()],
    "keyset_page": [body(after=c) for c in cursors],
    "status": [
        body(filt={"statuses": s})
        for s in (["UNSHIPPED"], ["PENDING"], ["UNSHIPPED", "PARTIALLY_SHIPPED"], ["UNFULFILLABLE"])
    ],
    "marketplace": [
        body(filt={"marketplaceId": m})
        for m in ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8", "A2Q3Y263D00KWC")
    ],
    "date_range": [
        body(
            filt={
                "purchasedFrom": (now - timedelta(days=d + 7)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "purchasedTo": (now - timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
        for d in (0, 30, 90, 200, 365, 600)
    ],
    "sku": [body(filt={"sku": s}) for s in ("SKU-0001", "SKU-0007", "SKU-0042", "SKU-0250")],
    "status_keyset": [body(after=c, filt={"statuses": ["UNSHIPPED"]}) for c in cursors[:20]],
    # A SKU beside a status few of its orders have: the SKU's orders are walked
    # newest first until a page of them has the status (not in the mix).
    "sku_rare_status": [
        body(filt={"sku": s, "statuses": st})
        for s in ("SKU-0001", "SKU-0042")
        for st in (["UNFULFILLABLE"], ["PARTIALLY_SHIPPED"])
    ],
    "total_count": [body(query=COUNT)],
}
for kind, lines in kinds.items():
    with open(f"{out}/{kind}.jsonl", "w") as f:
        f.write("\n".join(lines) + "\n")
# The mix: each paging/filter kind in equal shares, interleaved.
mix_kinds = ["first_page", "keyset_page", "status", "marketplace", "date_range", "sku"]
with open(f"{out}/mix.jsonl", "w") as f:
    for i in range(120):
        for k in mix_kinds:
            lines = kinds[k]
            f.write(lines[i % len(lines)] + "\n")
