// libpng read/write with errors turned into messages (see include/png_codec.h).
#include "png_codec.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    jmp_buf jump;
    char message[256];
} codec_error;

static void on_error(png_structp png, png_const_charp message) {
    codec_error *e = (codec_error *)png_get_error_ptr(png);
    snprintf(e->message, sizeof e->message, "%s", message);
    longjmp(e->jump, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
    (void)png; (void)message;  // ancillary-chunk problems: the pixels are still good
}

/// libpng's own wording for a short read is "Read Error"; say what it means.
static void describe(const char *raw, char *error, size_t error_size) {
    if (strstr(raw, "Read Error") || strstr(raw, "Not enough image data") || strstr(raw, "unexpected end"))
        snprintf(error, error_size, "truncated file (%s)", raw);
    else if (strstr(raw, "CRC"))
        snprintf(error, error_size, "corrupt data: %s", raw);
    else
        snprintf(error, error_size, "%s", raw);
}

int ecdp_png_read(const char *path, size_t max_pixels, ecdp_png_image *out, char *error, size_t error_size) {
    memset(out, 0, sizeof *out);
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(error, error_size, "%s", strerror(errno));
        return -1;
    }
    unsigned char signature[8];
    size_t got = fread(signature, 1, 8, file);
    if (got == 0) {
        fclose(file);
        snprintf(error, error_size, "empty file");
        return -1;
    }
    if (got < 8 || png_sig_cmp(signature, 0, 8) != 0) {
        fclose(file);
        snprintf(error, error_size, "not a PNG file (bad signature)");
        return -1;
    }
    codec_error e;
    e.message[0] = 0;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &e, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        if (png) png_destroy_read_struct(&png, NULL, NULL);
        fclose(file);
        snprintf(error, error_size, "out of memory creating the PNG decoder");
        return -1;
    }
    png_bytep *volatile rows = NULL;
    void *volatile pixels = NULL;
    if (setjmp(e.jump)) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        free(pixels);
        fclose(file);
        describe(e.message, error, error_size);
        return -1;
    }
    png_init_io(png, file);
    png_set_sig_bytes(png, 8);
    png_set_user_limits(png, 1u << 20, 1u << 20);
    png_read_info(png, info);

    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    int interlace = png_get_interlace_type(png, info);
    if ((size_t)width * (size_t)height > max_pixels) {
        snprintf(e.message, sizeof e.message, "image is %ux%u pixels, more than the limit of %zu",
                 (unsigned)width, (unsigned)height, max_pixels);
        longjmp(e.jump, 1);
    }
    // Normalize to RGB, 8 or 16 bits per sample.
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_strip_alpha(png);
    if (depth == 16) png_set_swap(png);  // PNG is big-endian; hand out native uint16
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int out_depth = depth == 16 ? 16 : 8;
    size_t row_bytes = png_get_rowbytes(png, info);
    size_t expected = (size_t)width * 3 * (out_depth / 8);
    if (row_bytes != expected) {
        snprintf(e.message, sizeof e.message, "unexpected row size %zu (expected %zu)", row_bytes, expected);
        longjmp(e.jump, 1);
    }
    pixels = malloc(row_bytes * height);
    rows = malloc(sizeof(png_bytep) * height);
    if (!pixels || !rows) {
        snprintf(e.message, sizeof e.message, "out of memory for %ux%u pixels", (unsigned)width, (unsigned)height);
        longjmp(e.jump, 1);
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = (png_bytep)pixels + y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    fclose(file);
    out->width = (int)width;
    out->height = (int)height;
    out->bit_depth = out_depth;
    out->source_color_type = color;
    out->source_bit_depth = depth;
    out->source_interlaced = interlace != PNG_INTERLACE_NONE;
    out->pixels = pixels;
    return 0;
}

void ecdp_png_free(ecdp_png_image *image) {
    free(image->pixels);
    image->pixels = NULL;
}

int ecdp_png_write(const char *path, int width, int height, int bit_depth, const void *pixels,
                   char *error, size_t error_size) {
    if (width <= 0 || height <= 0 || (bit_depth != 8 && bit_depth != 16)) {
        snprintf(error, error_size, "cannot write a %dx%d image at %d bits", width, height, bit_depth);
        return -1;
    }
    FILE *file = fopen(path, "wb");
    if (!file) {
        snprintf(error, error_size, "%s", strerror(errno));
        return -1;
    }
    codec_error e;
    e.message[0] = 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        if (png) png_destroy_write_struct(&png, NULL);
        fclose(file);
        snprintf(error, error_size, "out of memory creating the PNG encoder");
        return -1;
    }
    png_bytep *volatile rows = NULL;
    if (setjmp(e.jump)) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        fclose(file);
        snprintf(error, error_size, "%s", e.message);
        return -1;
    }
    png_init_io(png, file);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bit_depth == 16) png_set_swap(png);
    size_t row_bytes = (size_t)width * 3 * (bit_depth / 8);
    rows = malloc(sizeof(png_bytep) * height);
    if (!rows) {
        snprintf(e.message, sizeof e.message, "out of memory");
        longjmp(e.jump, 1);
    }
    for (int y = 0; y < height; y++) rows[y] = (png_bytep)pixels + y * row_bytes;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    if (fclose(file) != 0) {
        snprintf(error, error_size, "%s", strerror(errno));
        return -1;
    }
    return 0;
}

const char *ecdp_png_library_version(void) { return png_get_libpng_ver(NULL); }
