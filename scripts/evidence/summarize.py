#!/usr/bin/env python3
"""Per epoch of each run (RUN_DIR arguments): the median over the epoch's bn_stats probes of the
median and max over layers of noise and disagreement, and validation (docs/syncbn.md)."""
import json, os, statistics, sys
for run in sys.argv[1:]:
    probes=[];vals=[];osc=[]
    for l in open(os.path.join(run, 'events.jsonl')):
        m=json.loads(l)
        if m['type']=='bn_stats': probes.append(m)
        if m['type']=='val': vals.append(m)
        if m['type']=='run_started': ipe=m['iterations_per_epoch']
    print(os.path.basename(run.rstrip('/')), 'iterations per epoch', ipe)
    for e in range(len(vals)):
        ps=[p for p in probes if e*ipe<=p['iteration']<(e+1)*ipe]
        nm=statistics.median([p['noise_median'] for p in ps]) if ps else float('nan')
        dm=statistics.median([p['disagreement_median'] for p in ps]) if ps else float('nan')
        nx=statistics.median([p['noise_max'] for p in ps]) if ps else float('nan')
        dx=statistics.median([p['disagreement_max'] for p in ps]) if ps else float('nan')
        print(f"  epoch {e+1}: probes {len(ps)} noise med {nm:.3f} max {nx:.3f} disagree med {dm:.3f} max {dx:.3f} mAP50 {vals[e]['map50']:.3f} mAP50-95 {vals[e]['map50_95']:.3f}")
