# IRNet's boundary branch (IRN, Ahn, Cho and Kwak, CVPR 2019) on PASCAL
# VOC 2012, for IRN's refinement of the adversarial erasing maps: timm's
# ResNet-50 from torchvision's ImageNet weights, frozen; trained on the
# relation labels of the maps with IRN's schedule. The pipeline (irn
# setting) or
#   python tools/make_pseudo_labels.py MAPS --relation 0.30 0.05 --crf ...
#   python tools/infer_irn.py configs/irn_r50_voc.py CKPT MAPS
_base_ = [
    '_base_/models/irn_r50.py', '_base_/datasets/voc12_relation_labels.py',
    '_base_/schedules/irn_poly_3ep.py', '_base_/default_runtime.py'
]
default_hooks = dict(checkpoint=dict(interval={{_base_.max_iters}}))
