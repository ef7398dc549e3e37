"""One image's label job: written, kept on resume, scored, and its input
errors; the jobs of a folder in worker processes, one of which dies; the
folder check that refuses other settings."""
import contextlib
import faulthandler
import json
import os
import re
import signal
import time

import cv2
import numpy as np
import pytest
from test_labeling import CLASSES, MAPS

import mmadv  # noqa: F401
from mmadv.datasets import map_path, read_label_png, save_maps
from mmadv.pseudo_labels import (LabelJob, ThresholdLabeler,
                                 check_label_folder, run_jobs)
from mmadv.utils import InputError, MissingInputError
from mmadv.utils.atomic import remove_temp_files

# the label of MAPS by ThresholdLabeler(0.3)
LABEL = np.array([[0, 0, 12, 5], [0, 12, 5, 12]])


@contextlib.contextmanager
def deadline(seconds: int):
    """Fail a block still running after ``seconds``, instead of hanging."""

    def expire(signum, frame):
        raise TimeoutError(f'still running after {seconds} s')

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_job_writes_and_scores(tmp_path):
    for folder in ('maps', 'img', 'out', 'gt'):
        (tmp_path / folder).mkdir()
    save_maps(map_path(str(tmp_path / 'maps'), 'x'), CLASSES, MAPS)
    cv2.imwrite(str(tmp_path / 'img' / 'x.jpg'), np.zeros((2, 4, 3), np.uint8))
    gt = np.array([[0, 5, 5, 5], [255, 12, 0, 0]], np.uint8)
    cv2.imwrite(str(tmp_path / 'gt' / 'x.png'), gt)
    job = LabelJob(
        str(tmp_path / 'maps'),
        str(tmp_path / 'img'),
        str(tmp_path / 'out'),
        ThresholdLabeler(0.3),
        gt_dir=str(tmp_path / 'gt'))
    result = job('x')
    np.testing.assert_array_equal(
        read_label_png(str(tmp_path / 'out' / 'x.png')), LABEL)
    assert result['written'] and result['num_valid'] == 7
    assert result['num_labelled'] == 7
    conf = result['confusion']
    assert conf.sum() == 7
    assert conf[0, 0] == 1 and conf[5, 0] == 1 and conf[0, 5] == 1
    assert conf[12, 12] == 1 and conf[5, 12] == 1 and conf[0, 12] == 1
    assert conf[5, 5] == 1
    again = job('x')
    assert not again['written']
    np.testing.assert_array_equal(again['confusion'], conf)


def test_job_input_errors(tmp_path):
    for folder in ('maps', 'img', 'out'):
        (tmp_path / folder).mkdir()
    save_maps(map_path(str(tmp_path / 'maps'), 'x'), CLASSES, MAPS)
    job = LabelJob(
        str(tmp_path / 'maps'), str(tmp_path / 'img'), str(tmp_path / 'out'),
        ThresholdLabeler(0.3))
    img_path = tmp_path / 'img' / 'x.jpg'
    with pytest.raises(FileNotFoundError, match=f'image {img_path} not'):
        job('x')
    img_path.write_bytes(b'not a jpeg')
    with pytest.raises(ValueError, match=f'cannot decode image {img_path}'):
        job('x')
    cv2.imwrite(str(img_path), np.zeros((3, 4, 3), np.uint8))
    with pytest.raises(ValueError, match=r'map size \(2, 4\) .* \(3, 4\)'):
        job('x')
    with pytest.raises(FileNotFoundError, match=r'y\.npz'):
        job('y')
    assert list((tmp_path / 'out').iterdir()) == []


class DyingJob(LabelJob):
    """A label job that kills its own process with ``signum`` on image
    ``victim``, as a segfault of the CRF or the out-of-memory killer
    would."""

    def __init__(self, victim: str, signum: int, *args) -> None:
        super().__init__(*args)
        self.victim = victim
        self.signum = signum

    def __call__(self, name: str) -> dict:
        if name == self.victim:
            faulthandler.disable()  # pytest's dump would clutter the output
            os.kill(os.getpid(), self.signum)
        return super().__call__(name)


def label_folders(root, names):
    """Map, image and output folders of ``names``, each image with the
    maps ``MAPS``."""
    folders = [str(root / folder) for folder in ('maps', 'img', 'out')]
    for folder in folders:
        os.mkdir(folder)
    for name in names:
        save_maps(map_path(folders[0], name), CLASSES, MAPS)
        cv2.imwrite(f'{folders[1]}/{name}.jpg', np.zeros((2, 4, 3), np.uint8))
    return folders


@pytest.mark.parametrize('signum, reason', [
    (signal.SIGSEGV, 'signal SIGSEGV (Segmentation fault)'),
    (signal.SIGKILL, 'signal SIGKILL (the out-of-memory killer?)'),
    (signal.SIGABRT, 'signal SIGABRT (Aborted)'),
])
def test_a_dead_worker_ends_the_run_in_one_line(tmp_path, signum, reason,
                                                new_children):
    names = [f'x{i:02d}' for i in range(30)]
    folders = label_folders(tmp_path, names)
    job = DyingJob('x13', signum, *folders, ThresholdLabeler(0.3))
    done = []
    start = time.monotonic()
    with deadline(30), pytest.raises(InputError) as error:
        for result in run_jobs(job, names, 2):
            done.append(result['name'])
    assert time.monotonic() - start < 5
    assert re.fullmatch(
        rf'worker \(pid \d+\) was killed by {re.escape(reason)} while '
        r'making the label of x13; the pool is shut down \(the labels '
        r'written so far are kept: run again to resume\)', str(error.value))
    assert not new_children()
    # a worker killed while it wrote (the one that died, or one the pool
    # shut down) leaves its temporary file, which the next run removes
    # before it starts (remove_temp_files); every other file is whole
    remove_temp_files(folders[2], '.png')
    written = sorted(name[:-4] for name in os.listdir(folders[2]))
    assert set(done) <= set(written) and 'x13' not in written
    for name in written:
        np.testing.assert_array_equal(
            read_label_png(f'{folders[2]}/{name}.png'), LABEL)


def test_a_job_error_in_a_worker_is_raised_as_it_is(tmp_path, new_children):
    names = [f'x{i:02d}' for i in range(30)]
    folders = label_folders(tmp_path, names)
    os.remove(f'{folders[1]}/x13.jpg')
    job = LabelJob(*folders, ThresholdLabeler(0.3))
    with deadline(30), pytest.raises(MissingInputError) as error:
        list(run_jobs(job, names, 2))
    assert str(error.value) == f'image {folders[1]}/x13.jpg not found'
    assert not new_children()


def test_folder_of_other_settings_is_refused(tmp_path):
    settings = dict(map_dir='/maps', split='train_aug', bg_threshold=0.3)
    check_label_folder(str(tmp_path), settings)  # no meta.json yet
    (tmp_path / 'meta.json').write_text(
        json.dumps(
            dict(settings, setting_keys=sorted(settings), num_images=3)))
    check_label_folder(str(tmp_path), settings)  # the same: resume
    with pytest.raises(ValueError, match=r'bg_threshold: 0.3 now 0.5'):
        check_label_folder(str(tmp_path), dict(settings, bg_threshold=0.5))
    # a recorded setting the new labeler does not have
    with pytest.raises(ValueError, match=r'bg_threshold: 0.3 now None'):
        check_label_folder(
            str(tmp_path),
            dict(map_dir='/maps', split='train_aug', affinity=[4, 32]))
