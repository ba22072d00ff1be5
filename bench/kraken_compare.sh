#!/usr/bin/env bash
# kraken's default recogniser on the same pages as tr, for docs/results.md.
#
# Trains `ketos train` (kraken's default VGSL network, its default
# hyper-parameters) on the training pages of a shared collection for a fixed
# wall-clock budget — the training time of the tr run it is compared with —
# keeping the best model on the validation pages, then scores it on the test
# pages with `ketos test` (character accuracy = 1 − corpus CER, the form
# `htr evaluate` reports). Optional: needs `pip install kraken` (7.1.1 here,
# with PyTorch); never run by tests or CI.
#
#   bench/kraken_compare.sh COLLECTION_DIR page|alto MINUTES OUT_DIR [PYTHON_VENV]
#   bench/kraken_compare.sh ../shared/data/htr/hooker page 240 /tmp/kraken-hooker /work/kraken/venv
#
# COLLECTION_DIR holds xml/<page>.xml and splits/{train,val,test}.txt (page ids).
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,16p' "$0" >&2
  exit 2
fi
COLLECTION=$(cd "$1" && pwd)
FORMAT=$2
MINUTES=$3
OUT=$4
VENV=${5:-}
KETOS=${VENV:+$VENV/bin/}ketos
command -v "$KETOS" >/dev/null || { echo "error: $KETOS not found (pip install kraken, or pass its venv)" >&2; exit 1; }
case $FORMAT in page|alto) ;; *) echo "error: format must be page or alto, got $FORMAT" >&2; exit 2;; esac
for split in train val test; do
  [ -f "$COLLECTION/splits/$split.txt" ] || { echo "error: $COLLECTION/splits/$split.txt missing" >&2; exit 1; }
done
mkdir -p "$OUT"
list() { # page ids (which may contain spaces) -> XML paths, one per line
  while IFS= read -r id || [ -n "$id" ]; do
    [ -n "$id" ] && printf '%s\n' "$COLLECTION/xml/$id.xml"
  done < "$COLLECTION/splits/$1.txt"
}
list train > "$OUT/train.lst"; list val > "$OUT/val.lst"; list test > "$OUT/test.lst"
cd "$OUT"
start=$(date +%s)
# kraken stops on its own early-stopping rule; the wall clock bounds it here.
timeout --signal=INT "$((MINUTES * 60))" "$KETOS" -d cpu --workers 2 --threads 2 train \
  -f "$FORMAT" -t train.lst -e val.lst -o model 2>&1 | tee train.log || true
echo "trained $(( $(date +%s) - start )) s" | tee -a train.log
# kraken 7 writes model/checkpoint_<epoch>-<val accuracy>.ckpt after each
# validation (checkpoint_abort.ckpt when interrupted); older versions wrote
# model_best.mlmodel. Take the best validation accuracy.
best=$(ls model/checkpoint_[0-9]*-*.ckpt 2>/dev/null \
  | sed -E 's/.*-([0-9.]+)\.ckpt$/\1 &/' | sort -g | tail -1 | cut -d' ' -f2- || true)
[ -n "$best" ] || best=$(ls model_best.mlmodel model/checkpoint_abort.ckpt 2>/dev/null | head -1 || true)
[ -n "$best" ] && [ -f "$best" ] || { echo "error: no model was written in $MINUTES min" >&2; exit 1; }
echo "best checkpoint: $best" | tee -a train.log
case $best in
  *.ckpt) "$KETOS" convert -o best.safetensors "$best"; best=best.safetensors ;;
esac
"$KETOS" -d cpu --threads 2 test -f "$FORMAT" -m "$best" -e test.lst 2>&1 | tee test.log
