"""Convert the MXNet ImageNet weights of ResNet-38 to a ResNet38d .pth
(:mod:`mmadv.models.backbones.resnet38d_mxnet`: parsed with numpy, renamed
as PSA's ``convert_mxnet_to_torch`` does, every key and shape checked).

Usage::

    python tools/model_converters/convert_r38_weights.py \\
        ilsvrc-cls_rna-a1_cls1000_ep-0001.params resnet38d_imagenet.pth
"""
import argparse
import sys
from typing import Optional, Sequence

from mmadv.models.backbones.resnet38d_mxnet import convert_mxnet_resnet38d


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert the MXNet ImageNet weights of ResNet-38 '
        '(ilsvrc-cls_rna-a1_cls1000_ep-0001.params) to a ResNet38d state '
        'dict')
    parser.add_argument('src', help='MXNet .params file')
    parser.add_argument('dst', help='output .pth file')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    try:
        convert_mxnet_resnet38d(args.src, args.dst)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
