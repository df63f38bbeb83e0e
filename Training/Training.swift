// Training: the data pipeline (Data/), and the trainer, schedules and resume (issue #6).
import ECDP
import Imaging
