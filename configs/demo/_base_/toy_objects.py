# The procedural toy_objects data set (mmadv.datasets.demo_shapes,
# shapes='toy_objects'), a copy of the template
# configs/_base_/datasets/own_image_labels.py: 96 x 96 images of 3 classes
# of their own (kite, boat, lamp: a diamond, a rectangle and an ellipse
# body with a coloured part), labels 1-3 in SegmentationClass, image labels
# from the XML annotations. Make it with
#   python -m mmadv.datasets.demo_shapes data/toy_objects --shapes \
#       toy_objects --size 96 --seed 0
# and run the demo recipe on it: configs/demo/adv_erase_toy-objects.py.
_base_ = ['../../_base_/datasets/own_image_labels.py']
data_root = 'data/toy_objects'
metainfo = dict(
    classes=('background', 'kite', 'boat', 'lamp'),
    # black background, the parts' colours
    palette=[[0, 0, 0], [255, 140, 0], [0, 175, 175], [150, 60, 230]])
crop_size = None  # no crops: each image at its own size

# as the demo: no flips or colour jitter (the classes' evidence is a colour
# and a stripe orientation), no loader processes for these small images
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackWeakSegInputs')
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,  # all images are 96 x 96
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo))
test_dataloader = val_dataloader
