// A narrow C layer over HDF5: HDF5's type ids are macros Swift cannot import, and its
// error stack is easier to flatten into one message in C. Every function returns 0 on
// success or -1 with a message in `error`.
#ifndef ECDP_HDF5_BRIDGE_H
#define ECDP_HDF5_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

/// Element types of stored datasets.
enum ecdp_h5_dtype { ECDP_H5_F32 = 0, ECDP_H5_F64 = 1, ECDP_H5_I64 = 2, ECDP_H5_U64 = 3, ECDP_H5_U8 = 4 };

#define ECDP_H5_MAX_RANK 8

/// Creates (truncating) a file for writing.
int ecdp_h5_create(const char *path, int64_t *file, char *error, size_t error_size);
/// Opens an existing file read-only; says so when the file is not HDF5 or is damaged.
int ecdp_h5_open(const char *path, int64_t *file, char *error, size_t error_size);
int ecdp_h5_close(int64_t file);

/// Writes dataset `name` (a path like "model/conv.weight"; missing groups are created).
int ecdp_h5_write(int64_t file, const char *name, int dtype, int rank, const uint64_t *dims,
                  const void *data, char *error, size_t error_size);

/// 1 if dataset `name` exists, 0 if not.
int ecdp_h5_exists(int64_t file, const char *name);

/// Type, shape and bytes actually stored (`H5Dget_storage_size`) of dataset `name`.
int ecdp_h5_info(int64_t file, const char *name, int *dtype, int *rank, uint64_t *dims,
                 uint64_t *stored_bytes, char *error, size_t error_size);

/// Reads dataset `name` converted to `dtype` into `out` (`capacity` bytes).
int ecdp_h5_read(int64_t file, const char *name, int dtype, void *out, size_t capacity,
                 char *error, size_t error_size);

/// Names of all datasets, '\n'-separated, in a malloc'd string the caller frees.
int ecdp_h5_list(int64_t file, char **names, char *error, size_t error_size);

/* The HDF5 library the program runs with. */
void ecdp_h5_library_version(unsigned *major, unsigned *minor, unsigned *release);

#endif
