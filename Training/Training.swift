// Training: the data pipeline (Data/), and the trainer, schedules and resume (issue #6).
@_exported import ECDP
@_exported import Imaging
