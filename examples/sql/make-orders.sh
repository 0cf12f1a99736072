#!/usr/bin/env bash
# Writes the example orders table: ROWS rows (default 1000) of id, region, amount,
# discount (empty, i.e. NULL, on some rows), items (NULL on some rows) and a note.
#   examples/sql/make-orders.sh > examples/sql/orders.csv
#   ROWS=1000000 examples/sql/make-orders.sh > /tmp/orders.csv
set -euo pipefail
awk -v rows="${ROWS:-1000}" 'BEGIN {
    split("EU US APAC LATAM", region, " ")
    split("12 x3 7 none 40", note, " ")
    print "id,region,amount,discount,items,note"
    seed = 42
    for (i = 1; i <= rows; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648
        amount = (seed % 90000) / 100.0
        discount = (i % 4 == 0) ? "" : sprintf("%.2f", (seed % 30) / 100.0)
        items = (i % 7 == 0) ? "" : (seed % 9) + 1
        printf "%d,%s,%.2f,%s,%s,%s\n", i, region[i % 4 + 1], amount, discount, items, note[i % 5 + 1]
    }
}'
