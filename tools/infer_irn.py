"""Refine a folder of attention maps by IRN's random walk on a trained
IRNet's class-boundary maps: :func:`mmadv.apis.boundary_walk_maps`.

Usage::

    python tools/infer_irn.py configs/irn_r50_voc.py \\
        work_dirs/irn_r50_voc/iter_990.pth \\
        work_dirs/adv_erase_r38_voc/maps_train_aug --split train_aug \\
        --out-dir work_dirs/adv_erase_r38_voc/maps_irn_train_aug
    # 4 GPUs: each rank takes every 4th image
    torchrun --nproc_per_node 4 tools/infer_irn.py ...

For each image of ``ImageSets/Segmentation/<split>.txt`` (the images of
the IRNet config's training data root) the maps of MAP_DIR are walked and
written in the same format to ``--out-dir``, divided by their maximum (IRN
thresholds them at 0.25). Resumable, atomic, sharded, as
``tools/infer_cam.py``.
"""
import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.apis import IRNSettings
from mmadv.apis.refinement_tool import refine_from_args, refinement_parser
from mmadv.utils.cli import run_tool


def parse_args(argv=None):
    parser = refinement_parser(
        IRNSettings, 'Refine attention maps by IRN\'s random walk')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    return run_tool(lambda: refine_from_args(IRNSettings, args),
                    'infer_irn', args.debug)


if __name__ == '__main__':
    main()
