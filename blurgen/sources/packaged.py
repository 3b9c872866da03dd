"""Real photographs that ship inside an installed package (scikit-image): no download, ever.

Two disjoint sets of the photographs scikit-image keeps in its own package folder (not the
larger set it fetches on demand):

- :data:`PHOTOS`, the colour ones, which ``blurgen evalset`` blurs for evaluation and no
  training run may see (:class:`PackagedPhotos`);
- :data:`TRAINING_PHOTOS`, greyscale ones, the built-in training corpus ``photos``
  (:class:`TrainingPhotos`).

Licences, as scikit-image documents them, are in ``datasets/evalset.md``,
``datasets/training-photos.md`` and in the two tables.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from blurgen.sources.images import SourceError, encode_png, read_image

TINTS = 2  # colour versions per training photo
TINT_SEED = 0
TINT_GAINS = (0.55, 1.0)  # range of each channel's gain

# (name, file in skimage/data, subject, licence as scikit-image states it)
PHOTOS: tuple[tuple[str, str, str, str], ...] = (
    ("astronaut", "astronaut.png", "portrait of astronaut Eileen Collins (NASA)", "public domain"),
    ("chelsea", "chelsea.png", "a cat, fur and a textured background", "CC0 (Stefan van der Walt)"),
    ("coffee", "coffee.png", "a coffee cup on a wooden table", "CC0 (Rachel Michetti)"),
    ("hubble_deep_field", "hubble_deep_field.jpg", "Hubble eXtreme Deep Field (NASA)", "public domain"),
    ("immunohistochemistry", "ihc.png", "stained colonic glands under a microscope (CMMI)", "no known copyright restrictions"),
    ("retina", "retina.jpg", "fundus photograph of a human retina (Mikael Häggström)", "CC0 1.0"),
    ("rocket", "rocket.jpg", "launch of DSCOVR on Falcon 9 (SpaceX)", "public domain"),
)


def skimage_data_folder() -> Path:
    try:
        import skimage.data
    except ImportError as error:
        raise SourceError(f"the packaged photos come with scikit-image, which does not import ({error})") from None
    return Path(skimage.data.__file__).parent


class PackagedPhotos:
    """The colour photos of :data:`PHOTOS` as a sharp source: RGB uint8 arrays, ids = their names."""

    def __init__(self) -> None:
        folder = skimage_data_folder()
        self.paths = [folder / file for _, file, _, _ in PHOTOS]
        missing = [str(path) for path in self.paths if not path.is_file()]
        if missing:
            raise SourceError(f"scikit-image's packaged photos are missing: {', '.join(missing)}")

    def __len__(self) -> int:
        return len(PHOTOS)

    def __getitem__(self, index: int) -> np.ndarray:
        return read_image(self.paths[index])

    def id(self, index: int) -> str:
        return PHOTOS[index][0]

    def describe(self) -> dict:
        import skimage

        return {"kind": "packaged photos", "package": f"scikit-image {skimage.__version__}", "images": len(self),
                "photos": [{"name": name, "subject": subject, "licence": licence} for name, _, subject, licence in PHOTOS]}


# (name = function in skimage.data, subject, licence as scikit-image states it), in the order the tints
# are drawn. Left out: moon (no licence stated), clock (it is motion-blurred), page and text (scans),
# and the colour photos.
TRAINING_PHOTOS: tuple[tuple[str, str, str], ...] = (
    ("camera", "a man with a camera on a tripod", "CC0 (Lav Varshney)"),
    ("coins", "Greek coins from Pompeii (Brooklyn Museum)", "no known copyright restrictions"),
    ("brick", "a brick wall", "CC0 (CC0Textures)"),
    ("grass", "grass", "CC0 (linolafett, DeviantArt)"),
    ("gravel", "gravel", "CC0 (CC0Textures)"),
    ("cell", "a cell in saline, quantitative phase image (Müller et al.)", "CC0"),
)


class TrainingPhotos:
    """The built-in training photographs: the six greyscale photos of :data:`TRAINING_PHOTOS`,
    each as it is (H×W uint8) and in :data:`TINTS` colour tints (H×W×3 uint8: the grey values
    times a gain per channel drawn uniformly from :data:`TINT_GAINS`, so that the network meets
    colour images whose structure the channels share). Sizes 303×384 to 660×550. Ids sort as a
    folder of their PNGs does (``brick-tint0.png``, ``brick-tint1.png``, ``brick.png``, ...), so
    ``write_training_photos`` + ``--src`` trains on the same stream. The same arrays every time.
    """

    def __init__(self) -> None:
        try:
            import skimage.data
        except ImportError as error:
            raise SourceError(f"the built-in photos come with scikit-image, which does not import ({error})") from None
        rng = np.random.default_rng(TINT_SEED)
        images = {}
        for name, _, _ in TRAINING_PHOTOS:
            grey = getattr(skimage.data, name)()
            grey = grey[..., 0] if grey.ndim == 3 else grey
            images[f"{name}.png"] = grey
            for k in range(TINTS):
                # Reversed: the order in which the shipped model's training PNGs stored the gains.
                gains = rng.uniform(*TINT_GAINS, 3)[::-1]
                images[f"{name}-tint{k}.png"] = np.clip(grey[..., None].astype(np.float32) * gains, 0, 255).astype(np.uint8)
        self.ids = sorted(images)
        self.images = [images[key] for key in self.ids]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.images[index]

    def id(self, index: int) -> str:
        return self.ids[index]

    def describe(self) -> dict:
        import skimage

        return {"kind": "built-in photos", "package": f"scikit-image {skimage.__version__}", "images": len(self),
                "photos": [{"name": name, "subject": subject, "licence": licence} for name, subject, licence in TRAINING_PHOTOS]}


def write_training_photos(out: Path) -> list[Path]:
    """Write :class:`TrainingPhotos` as PNGs into ``out`` (created), named by their ids; returns the paths."""
    photos = TrainingPhotos()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for index in range(len(photos)):
        written.append(out / photos.id(index))
        written[-1].write_bytes(encode_png(photos[index]))
    return written
