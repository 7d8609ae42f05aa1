from .block import C2f, DFL, SPPF, Bottleneck
from .conv import Concat, Conv
from .head import Detect
