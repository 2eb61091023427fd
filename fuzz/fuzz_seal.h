/*
 * fuzz_seal.h - make a mutated package's checksums right again, so that a
 * fuzz target gets past the reader's checksum checks to the checks behind
 * them (offsets, counts, indices, strings) and to what uses the result.
 * This is what a hostile package from someone who read hotpatch(5) looks
 * like: consistent checksums, anything else.
 *
 * Uses the private layout header lib/hpk_format.h on purpose: the fuzz
 * targets must follow the format when it changes, not a copy of it.
 */
#ifndef HP_FUZZ_SEAL_H
#define HP_FUZZ_SEAL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "hpk_format.h"
#include "util.h"

/* A copy of data (size bytes) with the file size, the table-of-contents
 * checksums of every section inside the file, the digest and id, and the whole-file
 * checksum recomputed.  Input too short or without the magic is copied
 * unchanged.  The caller frees. */
static inline uint8_t *fuzz_sealed_copy(const uint8_t *data, size_t size)
{
	uint8_t *img = malloc(size ? size : 1);
	uint64_t header_size, nr_toc;

	if (!img)
		abort();
	if (size)
		memcpy(img, data, size);
	if (size < HDR_SIZE_1_0 || memcmp(img, HPK_MAGIC, HPK_MAGIC_SIZE) != 0)
		return img;
	put_le(img + HDR_FILE_SIZE, size, 8);
	header_size = get_le(img + HDR_HEADER_SIZE, 2);
	nr_toc = get_le(img + HDR_NR_SECTIONS, 4);
	for (uint64_t i = 0; i < nr_toc; i++) {
		uint64_t at = header_size + i * TOC_ENTRY_SIZE, off, len;

		if (at > size || TOC_ENTRY_SIZE > size - at)
			break;
		off = get_le(img + at + TOC_OFFSET, 8);
		len = get_le(img + at + TOC_SIZE, 8);
		if (off <= size && len <= size - off)
			put_le(img + at + TOC_CHECKSUM, XXH3_64bits(img + off, (size_t)len), 8);
	}
	/* the id (and digest) first, then the checksum over them */
	hpk_seal_id(img, size);
	hpk_file_hash(img, size, 0, img + HDR_CHECKSUM);
	return img;
}

#endif
