"""A training is checked before its Runner starts logging: each bad input
is one line, and nothing is written (no work dir, no log)."""
import contextlib
import io
import shutil
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from PIL import Image

import mmadv  # noqa: F401
from mmadv.apis import ConfigError, InputError, MissingInputError, train
from mmadv.datasets.demo_shapes import generate_demo_voc

REPO = Path(__file__).parents[2]
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


@pytest.fixture(scope='module')
def demo_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('preflight') / 'data'
    generate_demo_voc(str(root), num_train=8, num_val=2, show_progress=False)
    return root


def demo_config(config: str, data_root, work_dir, **options) -> Config:
    cfg = Config.fromfile(str(REPO / 'configs' / config))
    cfg.merge_from_dict({
        **{f'{loader}.dataset.data_root': str(data_root)
           for loader in LOADERS},
        'train_cfg.max_iters': 1, 'train_dataloader.batch_size': 4,
        **options})
    cfg.work_dir = str(work_dir)
    return cfg


def refused(error, cfg, **kwargs) -> str:
    """The one line of ``train(cfg)``'s error; nothing was printed and the
    work dir was not made."""
    screen = io.StringIO()
    with pytest.raises(error) as info, contextlib.redirect_stdout(screen):
        train(cfg, **kwargs)
    message = str(info.value)
    assert '\n' not in message
    assert screen.getvalue() == ''
    return message


def test_the_headline_command_without_voc(tmp_path, monkeypatch):
    """``tools/train.py configs/adv_erase_r38_voc.py`` on a machine
    without VOC: its one line, not 409 lines of environment and config
    first."""
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(str(REPO / 'configs/adv_erase_r38_voc.py'))
    cfg.work_dir = str(tmp_path / 'work')
    assert refused(MissingInputError, cfg) == (
        'image list data/VOCdevkit/VOC2012/ImageSets/Segmentation/'
        'train_aug.txt not found')
    assert not (tmp_path / 'work').exists()


def test_weights_that_would_be_downloaded(demo_data, tmp_path):
    cfg = demo_config('adv_erase_timm-resnet50d_voc.py', demo_data,
                      tmp_path / 'work', **{
                          'model.localizer.backbone.pretrained': True})
    assert refused(ConfigError, cfg).endswith(
        'model.localizer.backbone.pretrained=True would download weights; '
        'give a local checkpoint file')
    assert not (tmp_path / 'work').exists()


def test_size_and_size_divisor_both_set(demo_data, tmp_path):
    cfg = demo_config('demo/cam_demo.py', demo_data, tmp_path / 'work', **{
        'model.data_preprocessor.size': (64, 64)})
    assert refused(ConfigError, cfg) == (
        f'{cfg.filename}: model.data_preprocessor sets both size (64, 64) '
        'and size_divisor 1; mmseg pads to one of them: set the other to '
        'None')


def test_images_of_mixed_sizes_where_the_recipe_needs_one(
        demo_data, tmp_path):
    """The demo recipe stacks its batches as they are (size_divisor 1, no
    crops): one image of another size is refused before training, not in
    the collate of its batch."""
    root = shutil.copytree(demo_data, tmp_path / 'data')
    odd = root / 'JPEGImages' / 'train_000003.jpg'
    Image.open(odd).resize((80, 64)).save(odd)
    cfg = demo_config('demo/cam_demo.py', root, tmp_path / 'work')
    assert refused(ConfigError, cfg) == (
        f'{cfg.filename}: train_dataloader batches 4 images of different '
        f'sizes (H x W: {root / "JPEGImages/train_000000.jpg"} is 64 x 64, '
        f'{odd} is 64 x 80) and model.data_preprocessor pads them to no '
        'common size (size_divisor 1): set crop_size (crops of one size) '
        'or train_dataloader.batch_size=1')
    # one image a batch stacks whatever the sizes
    train(demo_config('demo/cam_demo.py', root, tmp_path / 'one', **{
        'train_dataloader.batch_size': 1, 'val_dataloader.batch_size': 1}))
    assert (tmp_path / 'one' / 'iter_1.pth').is_file()


def test_a_val_list_whose_labels_are_missing(demo_data, tmp_path):
    """Own data: the val loader left on label_source='xml' without XML
    annotations names the missing file, before the Runner."""
    root = shutil.copytree(demo_data, tmp_path / 'data')
    for xml in (root / 'Annotations').glob('val_*.xml'):
        xml.unlink()
    cfg = demo_config('demo/cam_demo.py', root, tmp_path / 'work')
    assert refused(MissingInputError, cfg) == (
        f'annotation {root / "Annotations/val_000000.xml"} not found')


def test_resuming_a_checkpoint_of_another_model(demo_data, tmp_path):
    """A checkpoint of the adversarial erasing recipe in the work dir of
    the CAM baseline: refused in one line naming its first keys; the
    checkpoint is left as it was."""
    work = tmp_path / 'work'
    train(demo_config('demo/adv_erase_demo.py', demo_data, work, **{
        'model.localizer_iters': 1, 'model.adversary_iters': 1}))
    saved = (work / 'iter_1.pth').read_bytes()
    message = refused(InputError, demo_config(
        'demo/cam_demo.py', demo_data, work, **{'train_cfg.max_iters': 2}),
        resume=True)
    assert message.startswith(
        f'cannot resume from {work / "iter_1.pth"}: it was saved by another '
        f'model or optimizer than {REPO / "configs/demo/cam_demo.py"}\'s '
        '(unexpected keys: adversary.')
    assert message.endswith('; use another work dir, or delete its '
                            'checkpoints to train from the start')
    assert (work / 'iter_1.pth').read_bytes() == saved
    # the same model resumes
    runner = train(demo_config('demo/adv_erase_demo.py', demo_data, work, **{
        'model.localizer_iters': 1, 'model.adversary_iters': 1,
        'train_cfg.max_iters': 2}), resume=True)
    assert runner.iter == 2


def test_a_single_cut_checkpoint_names_the_file_to_delete(
        demo_data, tmp_path):
    work = tmp_path / 'work'
    train(demo_config('demo/cam_demo.py', demo_data, work))
    checkpoint = work / 'iter_1.pth'
    checkpoint.write_bytes(checkpoint.read_bytes()[:4096])
    message = refused(InputError, demo_config(
        'demo/cam_demo.py', demo_data, work, **{'train_cfg.max_iters': 2}),
        resume=True)
    assert message.startswith(
        f'cannot resume the training in {work}: none of its 1 checkpoints '
        f'can be read ({checkpoint}: ')
    assert message.endswith(f'; delete {checkpoint} to train from the start')
    checkpoint.unlink()
    assert train(demo_config('demo/cam_demo.py', demo_data, work),
                 resume=True).iter == 1
    assert torch.load(checkpoint, map_location='cpu',
                      weights_only=False)['meta']['iter'] == 1
