# The test-time and training image preprocessing of every mmadv model:
# ImageNet mean and std (RGB), the models' pretraining statistics. The
# training batches are padded to the config's crop_size (mmadv.apis fills
# model.data_preprocessor.size in from it, as mmseg configs write
# data_preprocessor = dict(size=crop_size)), or by size_divisor.
model = dict(
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],  # ImageNet, RGB
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,  # after normalisation: the mean colour
        seg_pad_val=255))  # padding is ignored
