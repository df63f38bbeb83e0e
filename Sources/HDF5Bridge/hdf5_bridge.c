// HDF5 access for the checkpoint format (see include/hdf5_bridge.h).
#include "hdf5_bridge.h"

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// HDF5 prints its error stack to stderr by default; we report our own messages.
/// It also keeps HDF5 from installing its atexit cleanup: after a failed write (disk full,
/// a file-size limit) that cleanup flushes the broken file again at exit and crashes inside
/// the library. Files are closed explicitly; the OS reclaims the rest.
static void quiet(void) {
    static int done = 0;
    if (!done) { H5dont_atexit(); H5Eset_auto2(H5E_DEFAULT, NULL, NULL); done = 1; }
}

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data) {
    (void)n;
    // The walk goes from the innermost frame outwards; keep the first description.
    char *out = (char *)data;
    if (out[0] == 0 && e->desc) snprintf(out, 256, "%s", e->desc);
    return 0;
}

static void fail(const char *what, char *error, size_t error_size) {
    char detail[256] = {0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, innermost, detail);
    H5Eclear2(H5E_DEFAULT);
    if (detail[0]) snprintf(error, error_size, "%s (%s)", what, detail);
    else snprintf(error, error_size, "%s", what);
}

static hid_t native(int dtype) {
    switch (dtype) {
    case ECDP_H5_F32: return H5T_NATIVE_FLOAT;
    case ECDP_H5_F64: return H5T_NATIVE_DOUBLE;
    case ECDP_H5_I64: return H5T_NATIVE_INT64;
    case ECDP_H5_U64: return H5T_NATIVE_UINT64;
    case ECDP_H5_U8: return H5T_NATIVE_UINT8;
    default: return -1;
    }
}

int ecdp_h5_create(const char *path, int64_t *file, char *error, size_t error_size) {
    quiet();
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) { fail("cannot create file", error, error_size); return -1; }
    *file = f;
    return 0;
}

int ecdp_h5_open(const char *path, int64_t *file, char *error, size_t error_size) {
    quiet();
    FILE *probe = fopen(path, "rb");
    if (!probe) { snprintf(error, error_size, "no such file"); return -1; }
    fseek(probe, 0, SEEK_END);
    long size = ftell(probe);
    fclose(probe);
    if (size == 0) { snprintf(error, error_size, "empty file"); return -1; }
    htri_t is = H5Fis_hdf5(path);
    if (is == 0) { snprintf(error, error_size, "not an HDF5 file"); return -1; }
    if (is < 0) { fail("cannot read the file", error, error_size); return -1; }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) { fail("damaged or truncated HDF5 file", error, error_size); return -1; }
    *file = f;
    return 0;
}

int ecdp_h5_close(int64_t file) { return H5Fclose((hid_t)file) < 0 ? -1 : 0; }

int ecdp_h5_write(int64_t file, const char *name, int dtype, int rank, const uint64_t *dims,
                  const void *data, char *error, size_t error_size) {
    hid_t type = native(dtype);
    if (type < 0 || rank < 0 || rank > ECDP_H5_MAX_RANK) { snprintf(error, error_size, "%s: bad type or rank", name); return -1; }
    hsize_t d[ECDP_H5_MAX_RANK];
    for (int i = 0; i < rank; i++) d[i] = dims[i];
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, d, NULL);
    hid_t set = H5Dcreate2((hid_t)file, name, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    int status = 0;
    if (set < 0) { fail("cannot create dataset", error, error_size); status = -1; }
    else {
        size_t count = 1;
        for (int i = 0; i < rank; i++) count *= d[i];
        if (count > 0 && H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
            fail("cannot write dataset", error, error_size); status = -1;
        }
        H5Dclose(set);
    }
    H5Sclose(space);
    H5Pclose(lcpl);
    if (status < 0) {
        char msg[320];
        snprintf(msg, sizeof msg, "%s: %s", name, error);
        snprintf(error, error_size, "%s", msg);
    }
    return status;
}

int ecdp_h5_exists(int64_t file, const char *name) {
    // Check each path component, as H5Lexists requires.
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", name);
    for (char *p = buf; ; p++) {
        if (*p == '/' || *p == 0) {
            char saved = *p;
            *p = 0;
            if (buf[0] && H5Lexists((hid_t)file, buf, H5P_DEFAULT) <= 0) return 0;
            if (saved == 0) break;
            *p = saved;
        }
    }
    return 1;
}

static int type_code(hid_t type) {
    H5T_class_t cls = H5Tget_class(type);
    size_t size = H5Tget_size(type);
    if (cls == H5T_FLOAT) return size == 4 ? ECDP_H5_F32 : ECDP_H5_F64;
    if (cls == H5T_INTEGER) {
        if (size == 1) return ECDP_H5_U8;
        return H5Tget_sign(type) == H5T_SGN_NONE ? ECDP_H5_U64 : ECDP_H5_I64;
    }
    return -1;
}

int ecdp_h5_info(int64_t file, const char *name, int *dtype, int *rank, uint64_t *dims,
                 uint64_t *stored_bytes, char *error, size_t error_size) {
    if (!ecdp_h5_exists(file, name)) { snprintf(error, error_size, "missing key %s", name); return -1; }
    hid_t set = H5Dopen2((hid_t)file, name, H5P_DEFAULT);
    if (set < 0) { fail("cannot open dataset", error, error_size); return -1; }
    hid_t type = H5Dget_type(set), space = H5Dget_space(set);
    int r = H5Sget_simple_extent_ndims(space);
    int status = 0;
    if (r < 0 || r > ECDP_H5_MAX_RANK) { snprintf(error, error_size, "%s: unsupported rank", name); status = -1; }
    else {
        hsize_t d[ECDP_H5_MAX_RANK];
        H5Sget_simple_extent_dims(space, d, NULL);
        for (int i = 0; i < r; i++) dims[i] = d[i];
        *rank = r;
        *dtype = type_code(type);
        *stored_bytes = (uint64_t)H5Dget_storage_size(set);
        if (*dtype < 0) { snprintf(error, error_size, "%s: unsupported element type", name); status = -1; }
    }
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(set);
    return status;
}

int ecdp_h5_read(int64_t file, const char *name, int dtype, void *out, size_t capacity,
                 char *error, size_t error_size) {
    int stored, rank;
    uint64_t dims[ECDP_H5_MAX_RANK], stored_bytes;
    if (ecdp_h5_info(file, name, &stored, &rank, dims, &stored_bytes, error, error_size) < 0) return -1;
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] != 0 && count > SIZE_MAX / dims[i]) { snprintf(error, error_size, "%s: size overflows", name); return -1; }
        count *= dims[i];
    }
    hid_t type = native(dtype);
    if (count > SIZE_MAX / H5Tget_size(type) || count * H5Tget_size(type) > capacity) { snprintf(error, error_size, "%s: buffer too small", name); return -1; }
    if (count == 0) return 0;
    hid_t set = H5Dopen2((hid_t)file, name, H5P_DEFAULT);
    herr_t r = H5Dread(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
    H5Dclose(set);
    if (r < 0) {
        char what[300];
        snprintf(what, sizeof what, "%s: cannot read (damaged or truncated file)", name);
        fail(what, error, error_size);
        return -1;
    }
    return 0;
}

typedef struct { char *text; size_t length, capacity; } name_list;

static herr_t visit(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
    (void)obj;
    if (info->type != H5O_TYPE_DATASET) return 0;
    name_list *list = (name_list *)data;
    size_t n = strlen(name);
    if (list->length + n + 2 > list->capacity) {
        size_t cap = (list->capacity + n + 2) * 2;
        char *grown = realloc(list->text, cap);
        if (!grown) return -1;
        list->text = grown;
        list->capacity = cap;
    }
    memcpy(list->text + list->length, name, n);
    list->length += n;
    list->text[list->length++] = '\n';
    list->text[list->length] = 0;
    return 0;
}

int ecdp_h5_list(int64_t file, char **names, char *error, size_t error_size) {
    name_list list = { calloc(1, 1), 0, 1 };
    if (H5Ovisit2((hid_t)file, H5_INDEX_NAME, H5_ITER_INC, visit, &list, H5O_INFO_BASIC) < 0) {
        free(list.text);
        fail("cannot list the file's datasets", error, error_size);
        return -1;
    }
    *names = list.text;
    return 0;
}

void ecdp_h5_library_version(unsigned *major, unsigned *minor, unsigned *release) {
    if (H5get_libversion(major, minor, release) < 0) { *major = *minor = *release = 0; }
}
