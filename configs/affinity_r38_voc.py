# AffinityNet (PSA, Ahn and Kwak, CVPR 2018) on PASCAL VOC 2012, for the
# random-walk refinement of the adversarial erasing maps (the paper's
# 62.8 val mIoU pipeline): ResNet-38 from the ImageNet weights, PSA's
# embedding, trained on the affinity labels of the maps with PSA's
# schedule. The pipeline (random_walk setting) or
#   python tools/make_pseudo_labels.py MAPS --affinity 4 32 --crf ...
#   python tools/infer_random_walk.py configs/affinity_r38_voc.py CKPT MAPS
_base_ = [
    '_base_/models/affinity_r38.py',
    '_base_/datasets/voc12_affinity_labels.py',
    '_base_/schedules/affinity_poly_10k.py', '_base_/default_runtime.py'
]
