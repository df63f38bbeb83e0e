// A small C layer over libpng. libpng reports errors by longjmp, which Swift cannot
// survive; these functions keep setjmp/longjmp inside C and return an error message.
#ifndef ECDP_PNG_CODEC_H
#define ECDP_PNG_CODEC_H

#include <stddef.h>
#include <stdint.h>

/// A decoded image: RGB, row-major, 8-bit (uint8) or 16-bit (native-endian uint16).
typedef struct {
    int width;
    int height;
    int bit_depth;          // 8 or 16
    int source_color_type;  // libpng color type of the file (for diagnostics)
    int source_bit_depth;   // bit depth in the file (1, 2, 4, 8 or 16)
    int source_interlaced;  // 1 when Adam7-interlaced
    void *pixels;           // width * height * 3 samples; free with ecdp_png_free
} ecdp_png_image;

/// Reads any PNG (gray, gray+alpha, RGB, RGBA, palette, 1–16 bit, interlaced) as RGB.
/// Alpha is dropped (colour values kept as stored); palette and gray are expanded;
/// 16-bit files stay 16-bit. Images with more than `max_pixels` pixels are refused
/// before any pixel memory is allocated. Returns 0 on success, else -1 with a message.
int ecdp_png_read(const char *path, size_t max_pixels, ecdp_png_image *out, char *error, size_t error_size);

void ecdp_png_free(ecdp_png_image *image);

/// Writes RGB samples (8-bit uint8 or 16-bit native uint16) as a PNG. Returns 0 or -1.
int ecdp_png_write(const char *path, int width, int height, int bit_depth, const void *pixels,
                   char *error, size_t error_size);

/* The libpng the program runs with (e.g. "1.6.39"). */
const char *ecdp_png_library_version(void);

#endif
