"""A full disk while mmengine saves a checkpoint: one line naming the
file, no file cut short left behind, and the training resumes once there
is space. The full disk is a small tmpfs (mounting one needs root; the
test is skipped where it cannot)."""
import contextlib
import io
import subprocess
from pathlib import Path

import pytest
from conftest import load_tool
from mmengine.fileio import get_file_backend

import mmadv  # noqa: F401
from mmadv.datasets.demo_shapes import generate_demo_voc

REPO = Path(__file__).parents[2]


@pytest.fixture
def small_disk(tmp_path):
    """A 600 KiB tmpfs, and a function that resizes it."""
    mount = tmp_path / 'disk'
    mount.mkdir()
    made = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=600k',
                           'tmpfs', str(mount)], capture_output=True)
    if made.returncode:
        pytest.skip(f'cannot mount a tmpfs: {made.stderr.decode().strip()}')

    def resize(size):
        subprocess.run(['mount', '-o', f'remount,size={size}', str(mount)],
                       check=True)

    try:
        yield mount, resize
    finally:
        # lazily: mmengine's log handlers may still hold a file open
        subprocess.run(['umount', '-l', str(mount)], check=True)


def test_a_write_that_does_not_fit_leaves_the_old_file(small_disk):
    disk, _ = small_disk
    backend = get_file_backend(str(disk))
    target = disk / 'last_checkpoint'
    backend.put_text('the old one', str(target))
    with pytest.raises(OSError) as info:
        backend.put(b'x' * 1_000_000, str(target))
    assert info.value.errno == 28 and info.value.filename == str(target)
    assert target.read_text() == 'the old one'
    assert [p.name for p in disk.iterdir()] == ['last_checkpoint']


def test_training_on_a_full_disk_resumes_once_there_is_space(
        small_disk, tmp_path):
    disk, resize = small_disk
    data = tmp_path / 'data'
    generate_demo_voc(str(data), num_train=4, num_val=2, show_progress=False)
    work = disk / 'work'
    argv = [
        str(REPO / 'configs/demo/cam_demo.py'), '--work-dir', str(work),
        '--cfg-options',
        *(f'{loader}.dataset.data_root={data}'
          for loader in ('train_dataloader', 'val_dataloader',
                         'test_dataloader')), 'train_cfg.max_iters=2',
        'train_dataloader.batch_size=2', 'default_hooks.checkpoint.interval=1'
    ]
    tool = load_tool('train.py')
    with pytest.raises(SystemExit) as info, \
            contextlib.redirect_stdout(io.StringIO()):
        tool.main(argv)
    assert info.value.code == (
        f'train: error: no space left on the device writing {work}/'
        'iter_1.pth: free some space and run it again with --resume: it '
        'goes on from the last complete checkpoint')
    # nothing cut short (a checkpoint, or a temporary file of one)
    assert not list(work.glob('*.pth')) and not list(work.glob('.*'))
    resize('64m')
    with contextlib.redirect_stdout(io.StringIO()):
        tool.main([*argv[:3], '--resume', *argv[3:]])
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_2.pth')
