"""blurgen's blur as a component of the pipelines users already have (optional: each module
imports its library, which blurgen itself never needs):

* :mod:`blurgen.adapters.albumentations` — :class:`~blurgen.adapters.albumentations.CameraShake`,
  a transform for ``A.Compose`` (``pip install 'blurgen[peers]'`` installs albumentations);
* :mod:`blurgen.adapters.module` — :class:`~blurgen.adapters.module.CameraShakeBlur`, an
  ``nn.Module`` that blurs a B×C×H×W batch on its device (kornia-style augmentation pipelines,
  ``torchvision.transforms.v2.Compose``);
* :mod:`blurgen.adapters.deepinv` — :class:`~blurgen.adapters.deepinv.ShakePSFGenerator`, a
  ``PSFGenerator`` so ``deepinv.physics.Blur`` and its solvers take blurgen's kernels.

Each draws sample i of a seed with :class:`blurgen.pairs.shake.ShakeSampler`: the kernel and
camera values pair i of ``blurgen dataset`` gets with the same seed, kernels and camera.
"""
