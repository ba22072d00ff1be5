#!/usr/bin/env python3
"""Report crates in candle's dependency graph whose features differ between the
whole-workspace build and a single-crate build (`cargo test -p <crate>`).

Every difference makes cargo rebuild candle-core (minutes on 2 cores) for that
crate selection. The fix is a pin (section "feature pins"): the crate with the
features the workspace enables, in the Cargo.toml of a crate at the bottom of our
graph. `-p tr-kernels` selects no other crate of ours, so its pins are in
crates/tr-kernels/Cargo.toml; every other selection includes tr-data, so theirs
are in crates/tr-data/Cargo.toml. Exit code 1 when a pin is missing, printing
the TOML lines to add and where. Needs only `cargo tree` (no compilation, no
network).
"""
import subprocess, sys, re

SELECTIONS = [["--workspace"], ["-p", "tr-data"], ["-p", "tr-data", "--no-default-features"],
              ["-p", "tr-kernels"], ["-p", "tr-models"], ["-p", "tr-lit"], ["-p", "tr-train"], ["-p", "tr-infer"],
              ["-p", "tr-cli"], ["-p", "xtask"]]

# Where a selection's pins live: the one bottom crate it selects (default: tr-data).
PIN_FILE = {"-p tr-kernels": "crates/tr-kernels/Cargo.toml", None: "crates/tr-data/Cargo.toml"}

def tree(args, edges):
    out = subprocess.run(["cargo", "tree", "-e", edges, "--prefix", "none", "-f", "{p}|{f}", *args],
                         capture_output=True, text=True, check=True).stdout
    feats = {}
    for line in out.splitlines():
        line = line.replace(" (*)", "").replace(" (proc-macro)", "")
        if "|" not in line:
            continue
        pkg, f = line.split("|", 1)
        parts = pkg.split()
        if len(parts) < 2 or parts[0].startswith("tr-") or parts[0] == "xtask":
            continue
        feats.setdefault((parts[0], parts[1]), set()).update(x for x in f.split(",") if x)
    return feats

def main():
    closure = set(tree(["-p", "candle-nn"], "normal,build").keys())
    missing = {}
    for edges, section in (("normal,dev", "dependencies"), ("build", "build-dependencies")):
        ws = tree(["--workspace"], edges)
        for sel in SELECTIONS[1:]:
            got = tree(sel, edges)
            for key, f in got.items():
                if key in closure and key in ws and f != ws[key]:
                    missing.setdefault((section, key), (ws[key], []))[1].append(" ".join(sel))
    if not missing:
        print("feature pins: every crate selection builds candle's dependencies identically")
        return 0
    for (section, (name, ver)), (f, sels) in sorted(missing.items()):
        v = re.sub(r"^v", "", ver)
        major = v.split(".")[0] if not v.startswith("0.") else ".".join(v.split(".")[:2])
        alias = f'pin-{name}-{major.replace(".", "-")}'
        feats = ", ".join(f'"{x}"' for x in sorted(f) if x != "default")
        line = f'[{section}] {alias} = {{ package = "{name}", version = "{major}", default-features = false, features = [{feats}] }}'
        files = sorted({PIN_FILE.get(sel, PIN_FILE[None]) for sel in sels})
        print(f'feature pin missing (add to {" and ".join(files)}):')
        print(f'  {line}  # differs in: {"; ".join(sels)}')
    return 1

sys.exit(main())
