# MS COCO 2014 with image-level labels: 80 classes and background, as WSSS
# papers use it. Convert the official release once into the VOC layout
# (JPEGImages links, SegmentationClass masks from the instance
# annotations, cls_labels.json image labels, ImageSets/Segmentation/
# {train,val}.txt of the labelled images):
#   python tools/dataset_converters/coco2014.py data/coco data/coco2014
# The classifier trains on train (82,081 labelled images) with the image
# labels; the val masks are read only to evaluate.
_base_ = ['./voc12_image_labels.py']  # PSA's augmentation and loaders
dataset_type = 'COCOImageLabelDataset'  # mmadv.datasets.coco
data_root = 'data/coco2014'  # the converted tree

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # gt_sem_seg, for IoUMetric only
    # COCO's 81 labels (filled in by mmadv.apis); a bad mask: named
    dict(type='CheckSegLabels', num_classes=None),
    dict(type='PackWeakSegInputs')
]
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/train.txt',
        label_source='file',  # cls_labels.json, from the instances
        labels_file='cls_labels.json'))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt',  # 40,137 images
        label_source='file',
        labels_file='cls_labels.json',
        pipeline=test_pipeline))
test_dataloader = val_dataloader
