"""Real photographs that ship inside an installed package (scikit-image): no download, ever.

These are the colour photographs scikit-image keeps in its own package folder (not the larger
set it fetches on demand). Licences, as scikit-image documents them, are in
``datasets/evalset.md`` and in :data:`PHOTOS`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from blurgen.sources.images import SourceError, read_image

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
