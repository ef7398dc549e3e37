# IRNet's boundary branch (IRN, Ahn, Cho and Kwak, CVPR 2019) on the demo,
# for IRN's refinement of the demo maps: timm's tiny 'test_resnet' from
# scratch, trained on the relation labels of the maps (the pipeline sets
# their folder and the data root; the walk's settings are
# adv_erase_demo.py's wsss_pipeline.irn).
# Departures from IRN (configs/irn_r50_voc.py), for 64 x 64 images whose
# objects are 10-25 px:
# - B at output stride 2 (a 32 x 32 grid; IRN: 4, a 128 x 128 grid at
#   512 px): every level of test_resnet at output stride 8 (strides 2, 4,
#   8, 8, 8), resized to level 0's size. At stride 4 the 16 x 16 grid has
#   objects of 3-6 cells, thinner than the boundary between them;
# - the backbone is trained (IRN: frozen): IRN's holds ImageNet features,
#   the demo's starts from random weights;
# - pairs within radius 5 (IRN: 10 at stride 4, 40 px of a 512 px crop;
#   5 cells here are 10 px of 64);
# - every pair closer than the radius (pair_rule='all', as the AffinityNet
#   demo config; IRN's window starts no pair in the 4 columns at the left
#   and right and the 4 rows at the bottom, 25 % of this grid);
# - the demo's data (no augmentation: the class cues are a colour and a
#   stripe orientation) and schedule (AdamW, 400 iterations; IRN: SGD, 3
#   epochs).
_base_ = ['../_base_/models/irn_r50.py', './_base_/demo_trained_only.py']

model = dict(
    data_preprocessor=dict(size_divisor=1),  # the images' own size
    backbone=dict(
        _delete_=True,
        type='TimmFeatureBackbone',
        model_name='test_resnet',
        output_stride=8,
        out_indices=(0, 1, 2, 3, 4)),
    out_level=0,  # stride 2 (IRN: 4)
    radius=5,  # IRN: 10
    pair_rule='all',  # IRN: 'psa'
    freeze_backbone=False)  # IRN: True

train_dataloader = dict(dataset=dict(data_prefix=dict(
    seg_map_path='work_dirs/demo/adv_erase_demo/relation_labels_train_aug')))
