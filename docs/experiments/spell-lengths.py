"""Spell lengths in the AWS traces against a memoryless model with the same mean (issue 14, third pass).

A tick is available when its count is > 0 (the traces' Counts format); the first run of each file is dropped (it
began before the recording). Usage: python3 docs/experiments/spell-lengths.py data/traces/aws-v100/*_v100_1.json
"""
import json
import math
import os
import sys

for path in sys.argv[1:]:
    trace = json.load(open(path))
    tick = trace["metadata"]["gap_seconds"] / 3600
    runs, current, length = [], None, 0
    for count in trace["data"]:
        up = count > 0
        if up == current:
            length += 1
        else:
            if current is not None:
                runs.append((current, length * tick))
            current, length = up, 1
    spells = [h for up, h in runs[1:] if up]
    outages = [h for up, h in runs[1:] if not up]
    if not spells or not outages:
        continue
    mean = sum(spells) / len(spells)
    short = sum(1 for h in spells if h <= 0.5) / len(spells)
    print(f"{os.path.basename(path):26s} spells {len(spells):4d}  mean {mean:5.2f} h  "
          f"P(spell <= 0.5 h) {short:.2f} (memoryless {1 - math.exp(-0.5 / mean):.2f})  "
          f"outages {len(outages)} mean {sum(outages) / len(outages):.2f} h")
