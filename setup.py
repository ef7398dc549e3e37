import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def version():
    scope = {}
    with open('mmadv/version.py', encoding='utf-8') as f:
        exec(f.read(), scope)
    return scope['__version__']


def add_mim_extension():
    """Put the repository's configs inside the package, under
    ``mmadv/.mim/configs`` as mmseg does: copied for a wheel (``pip
    install .``), linked for an editable install (``pip install -e .``),
    so that an installed mmadv finds ``configs/...`` from any directory
    (:mod:`mmadv.utils.config_path`)."""
    if 'bdist_wheel' in sys.argv or 'sdist' in sys.argv:
        mode = 'copy'
    elif 'editable_wheel' in sys.argv or 'develop' in sys.argv:
        mode = 'symlink'
    else:
        return
    mim = osp.join(HERE, 'mmadv', '.mim')
    os.makedirs(mim, exist_ok=True)
    target = osp.join(mim, 'configs')
    if osp.islink(target) or osp.isfile(target):
        os.remove(target)
    elif osp.isdir(target):
        shutil.rmtree(target)
    if mode == 'symlink':
        os.symlink(osp.relpath(osp.join(HERE, 'configs'), mim), target)
    else:
        shutil.copytree(osp.join(HERE, 'configs'), target)


add_mim_extension()
setup(
    name='mmadv',
    version=version(),
    description='End-to-end adversarial erasing for weakly-supervised '
    'semantic segmentation, as an mmsegmentation plugin',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    package_data={'mmadv': ['.mim/configs/*.py', '.mim/configs/*/*.py',
                            '.mim/configs/*/*/*.py']},
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.1',
        'torchvision',
        'timm>=1.0',
        'mmengine>=0.10.0,<0.11.0',
        'mmsegmentation>=1.2.0,<1.3.0',
        # mmseg 1.2 asserts mmcv<2.2.0; mmcv-lite is the same package
        # without compiled ops (full mmcv does not build on current torch);
        # mmadv.compat supplies the ops mmseg imports.
        'mmcv-lite>=2.0.0rc4,<2.2.0',
        'numpy',
        'opencv-python',
        'pydensecrf2',
        'pycocotools',  # COCO 2014's instance masks (mmadv.datasets.coco)
        # mmseg imports these at module level but does not declare them.
        'ftfy',
        'regex',
    ],
    extras_require={'dev': ['pytest>=7.3', 'pytest-xdist>=3.5']},
    zip_safe=False,
)
