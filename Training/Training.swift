// The data pipeline, trainer loop, resume logic and configs/*.yaml (issues #4, #6).
@_exported import ECDP
