"""Convert MS COCO 2014 into the VOC layout mmadv reads
(:func:`mmadv.datasets.coco.convert_coco2014`): image links, semantic
masks of 80 classes and background from the instance annotations, the
image labels and the split lists.

The instances files are checked before anything is written; a wrong
record is one line naming the file, the image or annotation and the
field.

Example::

    python tools/dataset_converters/coco2014.py data/coco data/coco2014
    # also {train,val}_all.txt of every image, as MCTformer lists them
    python tools/dataset_converters/coco2014.py data/coco data/coco2014 \\
        --keep-unlabelled
"""
import argparse

import mmadv  # noqa: F401  (applies the compat fixes, registers modules)
from mmadv.datasets.coco import COCO_SPLITS, convert_coco2014
from mmadv.utils.cli import run_tool


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('coco_root', help='holds train2014/, val2014/ and '
                        'annotations/instances_{train,val}2014.json')
    parser.add_argument('out_root', help='the converted tree (the configs\' '
                        'data_root, e.g. data/coco2014)')
    parser.add_argument('--splits', nargs='+', default=list(COCO_SPLITS),
                        choices=list(COCO_SPLITS))
    parser.add_argument(
        '--keep-unlabelled', action='store_true',
        help='also write ImageSets/Segmentation/<split>_all.txt of every '
        'image (all-background masks and no labels for the images without '
        'annotations), e.g. to score on all 40,504 val images as MCTformer '
        'does; <split>.txt stays the images with annotations')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    report = run_tool(
        lambda: convert_coco2014(args.coco_root, args.out_root, args.splits,
                                 keep_unlabelled=args.keep_unlabelled),
        'coco2014', args.debug)
    for split, counts in report.items():
        if 'lists' in counts:
            labelled, every = counts['lists']
            print(f'{split}: {counts["images"]} images listed in {labelled}, '
                  f'all {counts["images"] + counts["unlabelled"]} '
                  f'({counts["unlabelled"]} without annotations) in {every}')
        else:
            print(f'{split}: {counts["images"]} images listed, '
                  f'{counts["unlabelled"]} without annotations left out')


if __name__ == '__main__':
    main()
