# Stage 2 on MS COCO 2014: the VOC pseudo-label DeepLabV3+ R101-D8
# (deeplabv3plus_r101-d8_voc12aug-pseudo.py, mmseg's recipe: 512 crops,
# 40k iterations) on the converted COCO tree, 81 labels (the heads' counts
# follow the data set), tested on the val masks made from the instances.
_base_ = ['./deeplabv3plus_r101-d8_voc12aug-pseudo.py']
data_root = 'data/coco2014'  # tools/dataset_converters/coco2014.py
pseudo_label_dir = 'work_dirs/adv_erase_r38_coco/pseudo_labels_train'

train_dataloader = dict(
    dataset=dict(
        type='COCOLabelPNGDataset',
        data_root=data_root,
        data_prefix=dict(seg_map_path=pseudo_label_dir),
        ann_file='ImageSets/Segmentation/train.txt'))
val_dataloader = dict(
    dataset=dict(
        type='COCOLabelPNGDataset',
        data_root=data_root,
        data_prefix=dict(
            img_path='JPEGImages', seg_map_path='SegmentationClass'),
        ann_file='ImageSets/Segmentation/val.txt'))
test_dataloader = val_dataloader
