/* cubin_elf.c - what ueajc reads out of a cubin (an NVIDIA ELF64 file),
 * without a GPU or the toolkit: the architecture it was built for
 * (e_flags), NUL-terminated global strings by symbol name (the launch plan
 * `ueaj_plan`, the carried source `ueaj_source`), and per kernel the
 * registers (the .nv.info REGCOUNT attribute), static shared memory (the
 * size of .nv.shared.KERNEL) and code size (.text.KERNEL).  Every offset
 * and size in the file is checked against the buffer before use, with
 * overflow-safe arithmetic, so a corrupted cubin gives a message naming
 * the file, never a crash.  Declarations: cuda_plan.h.
 */
#include "cuda_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static uint64_t rd(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static char *cubin_fail(char *err, size_t errlen, const char *where, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "%s: %s", where ? where : "<cubin>", msg);
    return NULL;
}

/* off + n <= size, without overflow */
static int in_bounds(uint64_t off, uint64_t n, uint64_t size) { return off <= size && n <= size - off; }

int cuda_cubin_arch(const void *elf, size_t size, const char *where, int *sm, char *err, size_t errlen)
{
    const unsigned char *b = elf;
    const char *msg = NULL;
    if (!b || size < 64) msg = "too short for an ELF64 header";
    else if (memcmp(b, "\177ELF", 4) != 0) msg = "not an ELF file";
    else if (b[4] != 2 || b[5] != 1) msg = "not a 64-bit little-endian ELF file";
    else if (b[7] != 0x41) msg = "an ELF file, but not a CUDA cubin (its OS/ABI byte is not CUDA's 0x41)";
    else if (rd(b + 0x12, 2) != 190) msg = "an ELF file for another machine than NVIDIA CUDA (e_machine is not 190)";
    if (msg) {
        cubin_fail(err, errlen, where, msg);
        return -1;
    }
    *sm = (int)((rd(b + 0x30, 4) >> 8) & 0xff);
    return 0;
}

char *cuda_plan_from_cubin(const void *elf, size_t size, const char *where, char *err, size_t errlen)
{
    return cuda_cubin_string(elf, size, "ueaj_plan", where, err, errlen);
}

/* "ueaj_plan" + " is not in a section of the file" */
static char *sym_fail(char *err, size_t errlen, const char *where, const char *symbol, const char *msg)
{
    char m[256];
    snprintf(m, sizeof m, "%s%s", symbol, msg);
    return cubin_fail(err, errlen, where, m);
}

char *cuda_cubin_string(const void *elf, size_t size, const char *symbol, const char *where, char *err, size_t errlen)
{
    const unsigned char *b = elf;
    if (err && errlen) err[0] = 0;
    if (!b || size < 64) return cubin_fail(err, errlen, where, "too short for an ELF64 header");
    if (memcmp(b, "\177ELF", 4) != 0) return cubin_fail(err, errlen, where, "not an ELF file");
    if (b[4] != 2) return cubin_fail(err, errlen, where, "not a 64-bit ELF file");
    if (b[5] != 1) return cubin_fail(err, errlen, where, "not a little-endian ELF file");
    uint64_t shoff = rd(b + 0x28, 8), shentsize = rd(b + 0x3a, 2), shnum = rd(b + 0x3c, 2);
    uint64_t etype = rd(b + 0x10, 2);
    if (shoff == 0 || shnum == 0) return cubin_fail(err, errlen, where, "no section headers");
    if (shentsize != 64) return cubin_fail(err, errlen, where, "unexpected section header size");
    if (!in_bounds(shoff, shnum * 64, size)) return cubin_fail(err, errlen, where, "section headers past the end of the file (truncated?)");
    const unsigned char *sh = b + shoff;
    int found_symtab = 0;
    for (uint64_t i = 0; i < shnum; i++) {
        const unsigned char *s = sh + i * 64;
        if (rd(s + 4, 4) != 2) continue;                /* SHT_SYMTAB */
        found_symtab = 1;
        uint64_t off = rd(s + 0x18, 8), sz = rd(s + 0x20, 8), link = rd(s + 0x28, 4), ent = rd(s + 0x38, 8);
        if (ent != 24) return cubin_fail(err, errlen, where, "unexpected symbol size");
        if (!in_bounds(off, sz, size)) return cubin_fail(err, errlen, where, "symbol table past the end of the file (truncated?)");
        if (link >= shnum) return cubin_fail(err, errlen, where, "symbol table links to a missing string table");
        const unsigned char *st = sh + link * 64;
        uint64_t stroff = rd(st + 0x18, 8), strsz = rd(st + 0x20, 8);
        if (rd(st + 4, 4) != 3 || !in_bounds(stroff, strsz, size))
            return cubin_fail(err, errlen, where, "bad string table for the symbols");
        const char *strtab = (const char *)b + stroff;
        for (uint64_t j = 0; j + 24 <= sz; j += 24) {
            const unsigned char *sym = b + off + j;
            uint64_t name = rd(sym, 4);
            const size_t wn = strlen(symbol) + 1;
            if (name >= strsz || strsz - name < wn || memcmp(strtab + name, symbol, wn) != 0)
                continue;
            uint64_t shndx = rd(sym + 6, 2), value = rd(sym + 8, 8), ssize = rd(sym + 16, 8);
            if (shndx == 0 || shndx >= shnum) return sym_fail(err, errlen, where, symbol, " is not in a section of the file");
            const unsigned char *ds = sh + shndx * 64;
            uint64_t dtype = rd(ds + 4, 4), daddr = rd(ds + 0x10, 8), doff = rd(ds + 0x18, 8), dsz = rd(ds + 0x20, 8);
            if (dtype == 8) return sym_fail(err, errlen, where, symbol, " has no bytes in the file (SHT_NOBITS)");
            if (!in_bounds(doff, dsz, size)) return sym_fail(err, errlen, where, symbol, "'s section is past the end of the file (truncated?)");
            uint64_t rel = value;
            if (etype != 1) {                               /* not ET_REL: values are addresses */
                if (value < daddr) return sym_fail(err, errlen, where, symbol, " lies before its section");
                rel = value - daddr;
            }
            if (!in_bounds(rel, ssize, dsz)) return sym_fail(err, errlen, where, symbol, " extends past its section");
            const char *txt = (const char *)b + doff + rel;
            const char *nul = memchr(txt, 0, ssize);
            if (!nul) return sym_fail(err, errlen, where, symbol, " is not NUL-terminated");
            size_t n = (size_t)(nul - txt);
            char *out = malloc(n + 1);
            if (!out) return cubin_fail(err, errlen, where, "out of memory");
            memcpy(out, txt, n);
            out[n] = 0;
            return out;
        }
    }
    if (!found_symtab) return cubin_fail(err, errlen, where, "no symbol table");
    char m[200];
    snprintf(m, sizeof m, "no %s symbol (not made from ueajc CUDA source%s?)", symbol,
             strcmp(symbol, "ueaj_source") ? "" : " by `ueajc FILE.ue -o OUT.cubin`");
    return cubin_fail(err, errlen, where, m);
}

/* The section headers of a cubin, checked; NULL with a message. */
typedef struct Elf {
    const unsigned char *b;
    size_t               size;
    const unsigned char *sh;       /* section headers */
    uint64_t             shnum;
    const char          *shstr;    /* section names */
    uint64_t             shstrsz;
} Elf;

static int elf_open(Elf *e, const void *elf, size_t size, const char *where, char *err, size_t errlen)
{
    const unsigned char *b = elf;
    memset(e, 0, sizeof *e);
    int sm;
    if (cuda_cubin_arch(elf, size, where, &sm, err, errlen) != 0) return -1;
    uint64_t shoff = rd(b + 0x28, 8), shentsize = rd(b + 0x3a, 2), shnum = rd(b + 0x3c, 2), shstrndx = rd(b + 0x3e, 2);
    if (shoff == 0 || shnum == 0 || shentsize != 64 || !in_bounds(shoff, shnum * 64, size) || shstrndx >= shnum) {
        cubin_fail(err, errlen, where, "bad or truncated section headers");
        return -1;
    }
    const unsigned char *ss = b + shoff + shstrndx * 64;
    uint64_t soff = rd(ss + 0x18, 8), ssz = rd(ss + 0x20, 8);
    if (!in_bounds(soff, ssz, size)) { cubin_fail(err, errlen, where, "section names past the end of the file"); return -1; }
    e->b = b;
    e->size = size;
    e->sh = b + shoff;
    e->shnum = shnum;
    e->shstr = (const char *)b + soff;
    e->shstrsz = ssz;
    return 0;
}

/* Section i's name if it is NUL-terminated inside the name table, else "". */
static const char *sec_name(const Elf *e, uint64_t i)
{
    uint64_t o = rd(e->sh + i * 64, 4);
    if (o >= e->shstrsz || !memchr(e->shstr + o, 0, e->shstrsz - o)) return "";
    return e->shstr + o;
}

static int64_t sec_find(const Elf *e, const char *prefix, const char *name)
{
    size_t pl = strlen(prefix);
    for (uint64_t i = 0; i < e->shnum; i++) {
        const char *n = sec_name(e, i);
        if (!strncmp(n, prefix, pl) && !strcmp(n + pl, name)) return (int64_t)i;
    }
    return -1;
}

void cuda_cubin_kernels_free(CubinKernel *k, int n)
{
    for (int i = 0; k && i < n; i++) free(k[i].name);
    free(k);
}

int cuda_cubin_kernels(const void *elf, size_t size, const char *where, CubinKernel **out, int *nout, char *err,
                       size_t errlen)
{
    *out = NULL;
    *nout = 0;
    Elf e;
    if (elf_open(&e, elf, size, where, err, errlen) != 0) return -1;
    /* the symbol table and its strings */
    const unsigned char *sym = NULL, *symstr = NULL;
    uint64_t nsym = 0, symstrsz = 0;
    for (uint64_t i = 0; i < e.shnum && !sym; i++) {
        const unsigned char *s = e.sh + i * 64;
        if (rd(s + 4, 4) != 2) continue;
        uint64_t off = rd(s + 0x18, 8), sz = rd(s + 0x20, 8), link = rd(s + 0x28, 4);
        if (!in_bounds(off, sz, size) || link >= e.shnum || rd(s + 0x38, 8) != 24) {
            cubin_fail(err, errlen, where, "bad symbol table");
            return -1;
        }
        const unsigned char *st = e.sh + link * 64;
        uint64_t so = rd(st + 0x18, 8), ssz = rd(st + 0x20, 8);
        if (!in_bounds(so, ssz, size)) { cubin_fail(err, errlen, where, "bad string table for the symbols"); return -1; }
        sym = e.b + off;
        nsym = sz / 24;
        symstr = e.b + so;
        symstrsz = ssz;
    }
    if (!sym) { cubin_fail(err, errlen, where, "no symbol table"); return -1; }
    CubinKernel *k = calloc(nsym + 1, sizeof *k);
    int *of_sym = malloc(sizeof(int) * (nsym + 1));   /* symbol index -> kernel index, or -1 */
    if (!k || !of_sym) { free(k); free(of_sym); cubin_fail(err, errlen, where, "out of memory"); return -1; }
    int n = 0;
    for (uint64_t j = 0; j < nsym; j++) {
        const unsigned char *s = sym + j * 24;
        uint64_t nm = rd(s, 4), shndx = rd(s + 6, 2);
        of_sym[j] = -1;
        if ((s[4] & 0xf) != 2 || nm >= symstrsz || !memchr(symstr + nm, 0, symstrsz - nm)) continue; /* STT_FUNC */
        const char *name = (const char *)symstr + nm;
        /* a kernel's code is the section .text.NAME (device functions live inside it) */
        if (shndx == 0 || shndx >= e.shnum || strncmp(sec_name(&e, shndx), ".text.", 6) ||
            strcmp(sec_name(&e, shndx) + 6, name))
            continue;
        if (!(k[n].name = strdup(name))) { cuda_cubin_kernels_free(k, n); free(of_sym); cubin_fail(err, errlen, where, "out of memory"); return -1; }
        k[n].code_bytes = (int64_t)rd(e.sh + shndx * 64 + 0x20, 8);
        k[n].regs = -1;
        int64_t sh = sec_find(&e, ".nv.shared.", name);
        k[n].smem = sh >= 0 ? (int64_t)rd(e.sh + (uint64_t)sh * 64 + 0x20, 8) : 0;
        of_sym[j] = n++;
    }
    /* .nv.info: records of (format, attribute[, size, data]); REGCOUNT (0x2f) holds (symbol, count) */
    int64_t ni = sec_find(&e, ".nv.info", "");
    if (ni >= 0) {
        const unsigned char *s = e.sh + (uint64_t)ni * 64;
        uint64_t off = rd(s + 0x18, 8), sz = rd(s + 0x20, 8);
        if (!in_bounds(off, sz, size)) {
            cuda_cubin_kernels_free(k, n);
            free(of_sym);
            cubin_fail(err, errlen, where, ".nv.info past the end of the file (truncated?)");
            return -1;
        }
        for (uint64_t p = 0; p + 2 <= sz;) {
            const unsigned char *r = e.b + off + p;
            unsigned fmt = r[0], attr = r[1];
            uint64_t len = fmt == 4 ? (p + 4 <= sz ? 4 + rd(r + 2, 2) : sz) : fmt == 3 ? 4 : fmt == 2 ? 3 : 2;
            if (p + len > sz) break;   /* a short last record: ignored */
            if (fmt == 4 && attr == 0x2f && len >= 12) {
                uint64_t si = rd(r + 4, 4), cnt = rd(r + 8, 4);
                if (si < nsym && of_sym[si] >= 0 && cnt < 65536) k[of_sym[si]].regs = (int)cnt;
            }
            p += len;
        }
    }
    free(of_sym);
    *out = k;
    *nout = n;
    return 0;
}
