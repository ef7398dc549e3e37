# PSA/SEAM's training augmentation from stock mmseg transforms, as one
# step of the training pipelines of the classifier's and AffinityNet's
# data. Crops smaller than crop_size (an image resized below 448 on its
# short side) are padded to crop_size by the model's SegDataPreProcessor,
# not here.
crop_size = (448, 448)  # (h, w) of training crops, as PSA and SEAM

psa_augmentation = dict(
    type='Compose',
    transforms=[
        # long side uniform in [448, 768], aspect kept (PSA's
        # RandomResizeLong)
        dict(
            type='RandomResize',
            scale=(768, 768),
            ratio_range=(448 / 768, 1.0),
            keep_ratio=True),
        # horizontal flip with probability 0.5
        dict(type='RandomFlip', prob=0.5),
        # close to PSA's ColorJitter(0.3, 0.3, 0.3, 0.1), but each step is
        # applied with probability 0.5
        dict(
            type='PhotoMetricDistortion',
            brightness_delta=38,  # additive; 0.3 x 127.5 for the 0.7-1.3
            contrast_range=(0.7, 1.3),  # ColorJitter contrast=0.3
            saturation_range=(0.7, 1.3),  # ColorJitter saturation=0.3
            hue_delta=18),  # ColorJitter hue=0.1 of 180 OpenCV hue units
        # random crop_size window (cat_max_ratio=1.0 needs no seg map)
        dict(type='RandomCrop', crop_size=crop_size),
    ])
