#!/usr/bin/env bash
# Orientation check of `htr predict --layout page`: reads the first N test pages
# of a collection as they are and turned 180°, and prints the rotation htr
# reports for each (0 = read upright, 180 = read as upside down).
#   bench/flip_check.sh ../shared/data/htr/hooker 10 /tmp/flip [htr binary]
# Needs ImageMagick's `convert` for the turned copies.
set -euo pipefail
root=$1; n=$2; out=$3; htr=${4:-target/release/htr}
mkdir -p "$out"
ok=0; total=0
# Page ids may hold spaces (Hooker's `<id> (1)`): one per line.
while IFS= read -r id; do
  page="$root/pages/$id.jpg"
  convert "$page" -rotate 180 "$out/$id-180.jpg"
  for img in "$page" "$out/$id-180.jpg"; do
    want=0; [[ $img == *-180.jpg ]] && want=180
    got=$("$htr" predict --layout page --json --log error "$img" |
      python3 -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["rotation"])')
    total=$((total+1)); [[ $got == "$want" ]] && ok=$((ok+1))
    echo "$id turned $want -> read as $got"
  done
done < <(head -n "$n" "$root/splits/test.txt")
echo "correct: $ok / $total"
