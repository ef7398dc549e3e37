"""Refine a folder of attention maps by AffinityNet's random walk (PSA):
:func:`mmadv.apis.random_walk_maps`.

Usage::

    python tools/infer_random_walk.py configs/affinity_r38_voc.py \\
        work_dirs/affinity_r38_voc/iter_10600.pth \\
        work_dirs/adv_erase_r38_voc/maps_train_aug --split train_aug \\
        --out-dir work_dirs/adv_erase_r38_voc/maps_rw_train_aug
    # 4 GPUs: each rank takes every 4th image
    torchrun --nproc_per_node 4 tools/infer_random_walk.py ...

For each image of ``ImageSets/Segmentation/<split>.txt`` (the images of
the AffinityNet config's training data root) the maps of MAP_DIR are
refined and written in the same format to ``--out-dir`` (a background
threshold of 0.5 is PSA's argmax). Resumable, atomic, sharded, as
``tools/infer_cam.py``.
"""
import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import RandomWalkSettings
from mmadv.apis.refinement_tool import refine_from_args, refinement_parser
from mmadv.utils.cli import run_tool


def parse_args(argv=None):
    parser = refinement_parser(
        RandomWalkSettings,
        'Refine attention maps by AffinityNet\'s random walk')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    return run_tool(lambda: refine_from_args(RandomWalkSettings, args),
                    'infer_random_walk', args.debug)


if __name__ == '__main__':
    main()
