"""The prepared GPU check: one command that measures mmadv on a GPU in a few
minutes and writes ``gpu_check.json`` and ``gpu_check.md`` (a Markdown
table) into OUT_DIR (:mod:`mmadv.benchmarks.gpu_check` lists the parts).
``tools/gpu_check.sh`` runs it. The exit status is 1 when a part failed.

``--cpu-smoke`` runs every part on the CPU at tiny sizes in under a minute
(the AMP modes need a GPU: they are listed as skipped), so that the check
cannot rot between GPU runs. Nothing is downloaded. Usage::

    bash tools/gpu_check.sh OUT_DIR
    bash tools/gpu_check.sh --cpu-smoke OUT_DIR
"""
import argparse
import os.path as osp

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.benchmarks import gpu_check_markdown, run_gpu_check
from mmadv.utils.cli import run_tool

DIST_TRAIN = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                      'dist_train.sh')


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir', help='folder of gpu_check.json and .md')
    parser.add_argument('--cpu-smoke', action='store_true',
                        help='every part on the CPU at tiny sizes')
    args = parser.parse_args(argv)
    results = run_tool(
        lambda: run_gpu_check(args.out_dir, args.cpu_smoke, DIST_TRAIN),
        'gpu_check')
    print(gpu_check_markdown(results))
    if any(p['status'] != 'ok' for p in results['parts'].values()):
        raise SystemExit(1)


if __name__ == '__main__':
    main()
