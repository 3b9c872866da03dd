"""Pairs: the pair settings' table (:mod:`.settings`), the synthesiser of sample i = (blurred,
sharp, meta) (:mod:`.synthesizer`), pairs of blur that varies across the image (:mod:`.motion`)
and from video (:mod:`.video`, :mod:`.interpolate`), what the settings build (:mod:`.build`), and
torch datasets (:mod:`.datasets`).

The synthesiser's names are also importable from here, as they were when ``blurgen.pairs`` was
one module.
"""

from blurgen.pairs.synthesizer import BankKernels, ImageTooSmall, LiveKernels, Pair, PairSynthesizer, Views, to_rgb

__all__ = ["BankKernels", "ImageTooSmall", "LiveKernels", "Pair", "PairSynthesizer", "Views", "to_rgb"]
