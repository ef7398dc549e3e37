# The procedural demo data set (mmadv.datasets.demo_shapes) with image
# labels: 64 x 64 "shape animals" of 5 VOC classes (bird, cat, cow, dog,
# sheep) in VOC layout and VOC labels, image labels from the XML
# annotations, masks in SegmentationClass for evaluation only. Its classes
# are VOC's 21 labels (VOCImageLabelDataset's METAINFO): the pipeline
# gives them to every stage (maps, pseudo-labels, DeepLabV3+, AffinityNet).
# tools/run_demo.py makes it; or
#   python -m mmadv.datasets.demo_shapes data/demo_shapes --seed 0
# VOC's image-label data (read as VOC: 20 classes), without augmentation.
_base_ = ['../../_base_/datasets/voc12_image_labels.py']
data_root = 'data/demo_shapes'  # holds JPEGImages, Annotations, ...
crop_size = None  # no crops: each image at its own size (VOC: 448)

# No flips or colour jitter: the class evidence is a colour (the part) and
# a stripe orientation (the body), which both would change.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackWeakSegInputs')  # inputs + gt_class_labels (C,)
]
# 64 x 64 images load in microseconds: no loader processes, so that both
# CPU cores go to the networks; every image has a mask
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        data_prefix=dict(seg_map_path='SegmentationClass'),
        pipeline=train_pipeline))  # 1,600 images
val_dataloader = dict(
    batch_size=16,  # all images are 64 x 64
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root))  # 200 images
test_dataloader = val_dataloader
