/* chat_eval.c - running a parsed chat template.
 *
 * Scopes are a chain: the globals (messages, bos_token, eos_token,
 * add_generation_prompt, tools and documents set to none, and the functions
 * raise_exception, namespace, range, strftime_now, dict), the template's
 * own scope, and one scope per for loop, emptied at every iteration.  That
 * is Jinja's rule: a {% set %} inside a loop is forgotten at the next
 * iteration and after the loop, which is why templates use namespace()
 * objects (dicts that {% set ns.x = ... %} changes in place) to carry state
 * out.  An if block has no scope of its own.
 *
 * Semantics are Python's where a template can tell: and/or return an
 * operand, not a bool; == compares 1, 1.0 and True as equal and a tuple
 * never equal to a list; // and % round towards minus infinity; / always
 * gives a float; 'ab' * 3 repeats; comparisons chain (1 < x < 3).
 * Undefined follows Jinja's default Undefined: printing, testing, iterating
 * and |length or |default work on it, anything else (an attribute, an item,
 * a call, arithmetic) raises with Jinja's message.  Attribute access x.y
 * on a dict looks for the methods items/keys/values/get first, then the
 * key; x['y'] looks for the key first; a miss is Undefined.
 *
 * Filters: trim length count default/d tojson upper lower title capitalize
 * join first last list string int float abs replace items reverse map
 * select reject selectattr rejectattr safe.  Tests: defined undefined none
 * boolean true false integer float number string mapping iterable sequence
 * callable even odd divisibleby eq/equalto/== ne/!= lt le gt ge in sameas
 * lower upper.  str methods: strip lstrip rstrip upper lower title
 * capitalize startswith endswith split replace join find count; dict
 * methods: items keys values get.  Unknown names of any of these, and
 * keyword arguments a filter does not take, are CHAT_ERR_UNSUPPORTED, so a
 * template never renders with an argument silently ignored.
 * strftime_now() formats the fixed date CHAT_FIXED_DATE.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_jinja.h"

/* builtin functions, then str and dict methods (bound: u.self) */
enum { F_RAISE, F_NAMESPACE, F_RANGE, F_STRFTIME, F_DICT, F_STR0, F_DICT0 = F_STR0 + 32 };
static const char *const STR_METHODS[] = { "strip", "lstrip", "rstrip", "upper", "lower", "title",
    "capitalize", "startswith", "endswith", "split", "replace", "join", "find", "count", NULL };
static const char *const DICT_METHODS[] = { "items", "keys", "values", "get", NULL };

/* ---- evaluation: scopes, truth, equality ------------------------------------ */

typedef struct Scope { struct Scope *up; Str *k; Val *v; int n, cap; } Scope;

static Val *scope_find(J *j, Scope *sc, Str name)
{
    for (; sc; sc = sc->up, jx_work(j, 1))
        for (int i = sc->n - 1; i >= 0; i--, jx_work(j, 1))
            if (str_same(sc->k[i], name)) return &sc->v[i];
    return NULL;
}
static void scope_set(J *j, Scope *sc, Str name, Val v)
{
    jx_work(j, (size_t)sc->n);
    for (int i = 0; i < sc->n; i++) if (str_same(sc->k[i], name)) { sc->v[i] = v; return; }
    if (sc->n == sc->cap) {
        int c = sc->cap ? sc->cap * 2 : 8;
        sc->k = arena_grow(&j->a, sc->k, sizeof(Str) * (size_t)sc->cap, sizeof(Str) * (size_t)c);
        sc->v = arena_grow(&j->a, sc->v, sizeof(Val) * (size_t)sc->cap, sizeof(Val) * (size_t)c);
        sc->cap = c;
    }
    sc->k[sc->n] = name;
    sc->v[sc->n++] = v;
}

static int truthy(Val v)
{
    switch (v.k) {
    case V_BOOL:  return v.u.b;
    case V_INT:   return v.u.i != 0;
    case V_FLOAT: return v.u.f != 0.0;
    case V_STR:   return v.u.s.n > 0;
    case V_LIST:  return v.u.l->n > 0;
    case V_DICT:  return v.u.d->ns || v.u.d->n > 0;
    case V_FUNC:  return 1;
    default:      return 0;
    }
}

static int is_num(Val v) { return v.k == V_BOOL || v.k == V_INT || v.k == V_FLOAT; }
static int is_intlike(Val v) { return v.k == V_BOOL || v.k == V_INT; }
static int64_t as_int(Val v) { return v.k == V_BOOL ? v.u.b : v.u.i; }
static double as_f(Val v) { return v.k == V_FLOAT ? v.u.f : (double)as_int(v); }

static int eq(J *j, Val a, Val b)
{
    if (is_num(a) && is_num(b))
        return is_intlike(a) && is_intlike(b) ? as_int(a) == as_int(b) : as_f(a) == as_f(b);
    if (a.k != b.k) return 0;
    switch (a.k) {
    case V_UNDEF: case V_NONE: return 1;
    case V_STR:  if (a.u.s.n == b.u.s.n) jx_work(j, a.u.s.n);
                 return str_same(a.u.s, b.u.s);
    case V_LIST:
        if (a.u.l->n != b.u.l->n || a.u.l->tuple != b.u.l->tuple) return 0;
        for (int i = 0; i < a.u.l->n; i++) if (!eq(j, a.u.l->v[i], b.u.l->v[i])) return 0;
        return 1;
    case V_DICT:
        if (a.u.d->ns || b.u.d->ns) return a.u.d == b.u.d;
        if (a.u.d->n != b.u.d->n) return 0;
        for (int i = 0; i < a.u.d->n; i++) {
            Val *o = jx_dict_find(j, b.u.d, a.u.d->k[i]);
            if (!o || !eq(j, a.u.d->v[i], *o)) return 0;
        }
        return 1;
    case V_FUNC: return a.fn == b.fn && a.u.self == b.u.self;
    default:     return 0;
    }
}

/* <0, 0, >0 for Python's ordering of numbers, strings and lists */
static int order(J *j, Val a, Val b, const char *op)
{
    if (is_num(a) && is_num(b)) {
        if (is_intlike(a) && is_intlike(b)) return (as_int(a) > as_int(b)) - (as_int(a) < as_int(b));
        return (as_f(a) > as_f(b)) - (as_f(a) < as_f(b));
    }
    if (a.k == V_STR && b.k == V_STR) {
        size_t m = a.u.s.n < b.u.s.n ? a.u.s.n : b.u.s.n;
        jx_work(j, m);
        int c = m ? memcmp(a.u.s.s, b.u.s.s, m) : 0;
        return c ? c : (a.u.s.n > b.u.s.n) - (a.u.s.n < b.u.s.n);
    }
    if (a.k == V_LIST && b.k == V_LIST && a.u.l->tuple == b.u.l->tuple) {
        for (int i = 0; i < a.u.l->n && i < b.u.l->n; i++)
            if (!eq(j, a.u.l->v[i], b.u.l->v[i])) return order(j, a.u.l->v[i], b.u.l->v[i], op);
        return (a.u.l->n > b.u.l->n) - (a.u.l->n < b.u.l->n);
    }
    if (a.k == V_UNDEF) TFAIL(j, "%s", a.u.why);
    if (b.k == V_UNDEF) TFAIL(j, "%s", b.u.why);
    TFAIL(j, "'%s' not supported between instances of '%s' and '%s'", op, jx_tname(a), jx_tname(b));
}

/* the elements a for loop visits: list items, dict keys, characters */
static List *iterate(J *j, Val v)
{
    if (v.k == V_LIST) return v.u.l;
    if (v.k == V_UNDEF) return jx_list_new(j, 0);
    if (v.k == V_DICT && !v.u.d->ns) {
        List *l = jx_list_new(j, v.u.d->n);
        for (int i = 0; i < v.u.d->n; i++) l->v[i] = v_str(v.u.d->k[i]);
        return l;
    }
    if (v.k == V_STR) {
        jx_work(j, v.u.s.n);
        List *l = jx_list_new(j, (int)jx_u8_len(v.u.s));
        size_t i = 0;
        for (int k = 0; k < l->n; k++) {
            size_t st = i;
            jx_u8_next(v.u.s.s, v.u.s.n, &i);
            Str c = { v.u.s.s + st, i - st };
            l->v[k] = v_str(c);
        }
        return l;
    }
    TFAIL(j, "'%s' object is not iterable", jx_tname(v));
}

static int contains(J *j, Val hay, Val needle)
{
    if (hay.k == V_STR) {
        if (needle.k != V_STR) TFAIL(j, "'in <string>' requires string as left operand, not %s", jx_tname(needle));
        if (needle.u.s.n == 0) return 1;
        jx_work(j, hay.u.s.n);
        return memmem(hay.u.s.s, hay.u.s.n, needle.u.s.s, needle.u.s.n) != NULL;
    }
    if (hay.k == V_DICT && !hay.u.d->ns) {
        if ((needle.k == V_LIST && !needle.u.l->tuple) || needle.k == V_DICT) TFAIL(j, "unhashable type: '%s'", jx_tname(needle));
        return needle.k == V_STR && jx_dict_find(j, hay.u.d, needle.u.s) != NULL;
    }
    List *l = iterate(j, hay);
    for (int i = 0; i < l->n; i++) if (eq(j, l->v[i], needle)) return 1;
    return 0;
}

/* ---- attribute and item access ------------------------------------------------ */

static Val bind_method(J *j, Val o, int fn)
{
    Val *self = ARENA_NEW(&j->a, Val);
    *self = o;
    return v_func(fn, self);
}

static Val getattr_v(J *j, Val o, Str name)
{
    if (o.k == V_UNDEF) TFAIL(j, "%s", o.u.why);
    if (o.k == V_DICT) {
        if (!o.u.d->ns)
            for (int i = 0; DICT_METHODS[i]; i++) if (str_eq(name, DICT_METHODS[i])) return bind_method(j, o, F_DICT0 + i);
        Val *p = jx_dict_find(j, o.u.d, name);
        if (p) return *p;
    }
    if (o.k == V_STR)
        for (int i = 0; STR_METHODS[i]; i++) if (str_eq(name, STR_METHODS[i])) return bind_method(j, o, F_STR0 + i);
    return v_undef(arena_printf(&j->a, "'%s' has no attribute '%.*s'",
                                o.k == V_NONE ? "None" : o.k == V_DICT ? "dict object" : jx_tname(o), (int)name.n, name.s));
}

/* Python's slice.indices() */
static int slice_idx(J *j, Val v, int64_t dflt, int64_t len, int64_t step)
{
    if (v.k == V_UNDEF || v.k == V_NONE) return (int)dflt;
    if (!is_intlike(v)) TFAIL(j, "slice indices must be integers or None");
    int64_t i = as_int(v);
    if (i < 0) { i += len; if (i < 0) i = step < 0 ? -1 : 0; }
    else if (i >= len) i = step < 0 ? len - 1 : len;
    return (int)i;
}

static Val slice(J *j, Val o, Val lo, Val hi, Val st)
{
    int64_t step = 1;
    if (st.k != V_UNDEF && st.k != V_NONE) {
        if (!is_intlike(st)) TFAIL(j, "slice indices must be integers or None");
        step = as_int(st);
        if (step == 0) TFAIL(j, "slice step cannot be zero");
    }
    List *src = o.k == V_LIST ? o.u.l : o.k == V_STR ? iterate(j, o) : NULL;
    if (!src) {
        if (o.k == V_UNDEF) TFAIL(j, "%s", o.u.why);
        return v_undef(arena_printf(&j->a, "'%s' object is not subscriptable", jx_tname(o)));
    }
    int64_t len = src->n;
    int64_t a = slice_idx(j, lo, step < 0 ? len - 1 : 0, len, step);
    int64_t b = slice_idx(j, hi, step < 0 ? -1 : len, len, step);
    int cnt = 0;
    for (int64_t i = a; step > 0 ? i < b : i > b; i += step) cnt++;
    List *r = jx_list_new(j, cnt);
    r->tuple = src->tuple;
    int k = 0;
    for (int64_t i = a; step > 0 ? i < b : i > b; i += step) r->v[k++] = src->v[i];
    if (o.k == V_LIST) return v_list(r);
    SB b2 = { 0 };
    jx_sb_put(j, &b2, "", 0);
    for (int i = 0; i < r->n; i++) jx_sb_str(j, &b2, r->v[i].u.s);
    return v_str(sb_done(&b2));
}

static Val getitem_v(J *j, Val o, Val key)
{
    if (o.k == V_UNDEF) TFAIL(j, "%s", o.u.why);
    if (o.k == V_DICT && key.k == V_STR) {
        Val *p = jx_dict_find(j, o.u.d, key.u.s);
        if (p) return *p;
        return getattr_v(j, o, key.u.s);
    }
    if ((o.k == V_LIST || o.k == V_STR) && is_intlike(key)) {
        List *l = o.k == V_LIST ? o.u.l : iterate(j, o);
        int64_t i = as_int(key);
        if (i < 0) i += l->n;
        if (i >= 0 && i < l->n) return l->v[i];
        return v_undef(arena_printf(&j->a, "%s object has no element %lld", jx_tname(o), (long long)as_int(key)));
    }
    if (key.k == V_STR) return getattr_v(j, o, key.u.s);
    Str ks = jx_val_str(j, key);
    return v_undef(arena_printf(&j->a, "'%s' has no item %.*s", jx_tname(o), (int)(ks.n > 40 ? 40 : ks.n), ks.s));
}

/* ---- arithmetic ------------------------------------------------------------------- */

static Val repeat(J *j, Val seq, int64_t times)
{
    if (times < 0) times = 0;
    if (seq.k == V_STR) {
        if (seq.u.s.n && (uint64_t)times > MAX_OUTPUT / seq.u.s.n) TFAIL(j, "string longer than %zu bytes", MAX_OUTPUT);
        SB b = { 0 };
        jx_sb_put(j, &b, "", 0);
        for (int64_t i = 0; i < times; i++) jx_sb_str(j, &b, seq.u.s);
        return v_str(sb_done(&b));
    }
    if (seq.u.l->n && times > MAX_RANGE / seq.u.l->n) TFAIL(j, "list too long");
    List *r = jx_list_new(j, (int)(seq.u.l->n * times));
    r->tuple = seq.u.l->tuple;
    for (int i = 0; i < r->n; i++) r->v[i] = seq.u.l->v[i % seq.u.l->n];
    return v_list(r);
}

static Val binop(J *j, int op, Val a, Val b)
{
    static const char *const names[128] = { ['+'] = "+", ['-'] = "-", ['*'] = "*", ['/'] = "/",
                                            ['F'] = "//", ['%'] = "%", ['P'] = "**" };
    if (op == '~') {
        SB s = { 0 };
        jx_sb_put(j, &s, "", 0);
        jx_to_str(j, &s, a);
        jx_to_str(j, &s, b);
        return v_str(sb_done(&s));
    }
    if (a.k == V_UNDEF) TFAIL(j, "%s", a.u.why);
    if (b.k == V_UNDEF) TFAIL(j, "%s", b.u.why);
    if (is_intlike(a) && is_intlike(b)) {
        int64_t x = as_int(a), y = as_int(b), r = 0;
        int ovf = 0;
        switch (op) {
        case '+': ovf = __builtin_add_overflow(x, y, &r); break;
        case '-': ovf = __builtin_sub_overflow(x, y, &r); break;
        case '*': ovf = __builtin_mul_overflow(x, y, &r); break;
        case '/': if (y == 0) TFAIL(j, "division by zero"); return v_float((double)x / (double)y);
        case 'F': case '%':
            if (y == 0) TFAIL(j, "integer division or modulo by zero");
            if (x == INT64_MIN && y == -1) { ovf = 1; break; }
            r = x % y;
            if (op == '%') { if (r && ((r < 0) != (y < 0))) r += y; }
            else { r = x / y; if ((x % y) && ((x < 0) != (y < 0))) r--; }
            break;
        case 'P':
            if (y < 0) return v_float(pow((double)x, (double)y));
            r = 1;
            for (int64_t base = x, e = y; e > 0 && !ovf;) {   /* by squaring */
                if (e & 1) ovf = __builtin_mul_overflow(r, base, &r);
                e >>= 1;
                if (e && !ovf) ovf = __builtin_mul_overflow(base, base, &base);
            }
            break;
        }
        if (ovf) TFAIL(j, "integer overflow in '%s' (64-bit integers)", names[op]);
        return v_int(r);
    }
    if (is_num(a) && is_num(b)) {
        double x = as_f(a), y = as_f(b);
        switch (op) {
        case '+': return v_float(x + y);
        case '-': return v_float(x - y);
        case '*': return v_float(x * y);
        case '/': if (y == 0) TFAIL(j, "float division by zero"); return v_float(x / y);
        case 'F': if (y == 0) TFAIL(j, "float floor division by zero"); return v_float(floor(x / y));
        case '%': {
            if (y == 0) TFAIL(j, "float modulo");
            double r = fmod(x, y);
            if (r != 0 && ((r < 0) != (y < 0))) r += y;
            return v_float(r);
        }
        case 'P': return v_float(pow(x, y));
        }
    }
    if (op == '+' && a.k == V_STR && b.k == V_STR) {
        SB s = { 0 };
        jx_sb_put(j, &s, "", 0);
        jx_sb_str(j, &s, a.u.s);
        jx_sb_str(j, &s, b.u.s);
        return v_str(sb_done(&s));
    }
    if (op == '+' && a.k == V_LIST && b.k == V_LIST && a.u.l->tuple == b.u.l->tuple) {
        List *r = jx_list_new(j, a.u.l->n + b.u.l->n);
        r->tuple = a.u.l->tuple;
        for (int i = 0; i < a.u.l->n; i++) r->v[i] = a.u.l->v[i];
        for (int i = 0; i < b.u.l->n; i++) r->v[a.u.l->n + i] = b.u.l->v[i];
        return v_list(r);
    }
    if (op == '*' && (a.k == V_STR || a.k == V_LIST) && is_intlike(b)) return repeat(j, a, as_int(b));
    if (op == '*' && (b.k == V_STR || b.k == V_LIST) && is_intlike(a)) return repeat(j, b, as_int(a));
    if (op == '%' && a.k == V_STR) UFAIL(j, "unsupported: '%%' string formatting");
    TFAIL(j, "unsupported operand type(s) for %s: '%s' and '%s'", names[op], jx_tname(a), jx_tname(b));
}

/* ---- calls: arguments ------------------------------------------------------------- */

typedef struct Args {
    Val *a; int na;
    Str *kn; Val *kv; int nk;
    unsigned used;                     /* keyword arguments consumed */
    int maxpos;                        /* positional arguments consumed */
    const char *what;                  /* "filter 'join'" */
} Args;

static Val arg(Args *c, int idx, const char *name, Val dflt)
{
    if (idx >= 0 && idx < c->na) { if (idx + 1 > c->maxpos) c->maxpos = idx + 1; return c->a[idx]; }
    for (int i = 0; name && i < c->nk; i++)
        if (str_eq(c->kn[i], name)) { c->used |= 1u << i; return c->kv[i]; }
    return dflt;
}
static void args_done(J *j, Args *c)
{
    if (c->na > c->maxpos) UFAIL(j, "too many arguments to %s", c->what);
    for (int i = 0; i < c->nk; i++)
        if (!(c->used & (1u << i)))
            UFAIL(j, "unsupported argument '%.*s' to %s", (int)c->kn[i].n, c->kn[i].s, c->what);
}
static Str arg_str(J *j, Args *c, int idx, const char *name, const char *dflt)
{
    Val v = arg(c, idx, name, v_undef(NULL));
    if (v.k == V_UNDEF && v.u.why == NULL) return cstr(dflt);
    if (v.k != V_STR) TFAIL(j, "%s: expected a string argument, got %s", c->what, jx_tname(v));
    return v.u.s;
}

/* ---- strftime_now on the fixed date ------------------------------------------------ */

static Val fixed_strftime(J *j, Str fmt)
{
    static const char *const mon[] = { "January", "February", "March", "April", "May", "June", "July",
                                       "August", "September", "October", "November", "December" };
    static const char *const wd[] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" };
    const int Y = 2024, M = 7, D = 26, W = 4 /* Friday */, YD = 208;
    SB b = { 0 };
    jx_sb_put(j, &b, "", 0);
    for (size_t i = 0; i < fmt.n; i++) {
        if (fmt.s[i] != '%' || i + 1 >= fmt.n) { jx_sb_put(j, &b, fmt.s + i, 1); continue; }
        char c = fmt.s[++i];
        switch (c) {
        case 'd': jx_sb_printf(j, &b, "%02d", D); break;
        case 'e': jx_sb_printf(j, &b, "%2d", D); break;
        case 'm': jx_sb_printf(j, &b, "%02d", M); break;
        case 'Y': jx_sb_printf(j, &b, "%d", Y); break;
        case 'y': jx_sb_printf(j, &b, "%02d", Y % 100); break;
        case 'b': case 'h': jx_sb_printf(j, &b, "%.3s", mon[M - 1]); break;
        case 'B': jx_sb_puts(j, &b, mon[M - 1]); break;
        case 'a': jx_sb_printf(j, &b, "%.3s", wd[W]); break;
        case 'A': jx_sb_puts(j, &b, wd[W]); break;
        case 'j': jx_sb_printf(j, &b, "%03d", YD); break;
        case 'H': case 'M': case 'S': jx_sb_puts(j, &b, "00"); break;
        case 'I': jx_sb_puts(j, &b, "12"); break;
        case 'p': jx_sb_puts(j, &b, "AM"); break;
        case 'F': jx_sb_printf(j, &b, "%d-%02d-%02d", Y, M, D); break;
        case '%': jx_sb_puts(j, &b, "%"); break;
        default: UFAIL(j, "strftime_now: unsupported directive '%%%c'", c);
        }
    }
    return v_str(sb_done(&b));
}

/* ---- str methods, shared with the filters ------------------------------------------- */

/* 'U' upper, 'L' lower, 'C' capitalize, 'T' str.title() (a word starts
 * after any non-letter), 'J' Jinja's |title (a word starts after
 * whitespace or one of - ( { [ <); ASCII letters only change case.  'T'
 * and 'C' expect lowercase input. */
static Str case_map(J *j, Str s, int mode)
{
    SB b = { 0 };
    jx_sb_put(j, &b, s.s, s.n);
    int start = 1;
    for (size_t i = 0; i < b.n; i++) {
        unsigned char c = (unsigned char)b.p[i];
        int letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
        int up = mode == 'U' || ((mode == 'T' || mode == 'J') && start) || (mode == 'C' && i == 0);
        if (c < 0x80 && letter) b.p[i] = (char)(up ? (c & ~0x20) : (c | 0x20));
        start = mode == 'J' ? (c < 0x80 && (strchr("-({[<", c) || (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20)) && c)
                            : !letter;
    }
    return sb_done(&b);
}

static void piece(J *j, List *l, int *cap, Str s)
{
    if (l->n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        l->v = arena_grow(&j->a, l->v, sizeof(Val) * (size_t)l->n, sizeof(Val) * (size_t)*cap);
    }
    l->v[l->n++] = v_str(s);
}

static Val split_str(J *j, Str s, const Val *sep, int64_t maxsplit)
{
    List *l = jx_list_new(j, 0);
    int count = 0, cap = 0;
    size_t i = 0;
    if (!sep || sep->k == V_NONE || sep->k == V_UNDEF) {
        for (;;) {
            while (i < s.n) { size_t k = i; if (!jx_py_space(jx_u8_next(s.s, s.n, &k))) break; i = k; }
            if (i >= s.n) break;
            size_t st = i;
            if (maxsplit >= 0 && count == maxsplit) {
                piece(j, l, &cap, jx_py_strip((Str){ s.s + st, s.n - st }, NULL, 2));
                break;
            }
            while (i < s.n) { size_t k = i; if (jx_py_space(jx_u8_next(s.s, s.n, &k))) break; i = k; }
            piece(j, l, &cap, (Str){ s.s + st, i - st });
            count++;
        }
    } else {
        if (sep->k != V_STR) TFAIL(j, "split: separator must be a string");
        Str d = sep->u.s;
        if (d.n == 0) TFAIL(j, "split: empty separator");
        for (;;) {
            const char *hit = (maxsplit < 0 || count < maxsplit) ? memmem(s.s + i, s.n - i, d.s, d.n) : NULL;
            if (!hit) { piece(j, l, &cap, (Str){ s.s + i, s.n - i }); break; }
            piece(j, l, &cap, (Str){ s.s + i, (size_t)(hit - (s.s + i)) });
            count++;
            i = (size_t)(hit - s.s) + d.n;
        }
    }
    return v_list(l);
}

static Val replace_str(J *j, Str s, Str old, Str new_, int64_t count)
{
    SB b = { 0 };
    jx_sb_put(j, &b, "", 0);
    size_t i = 0;
    int64_t done = 0;
    if (old.n == 0) {                     /* Python inserts between characters */
        while (count < 0 || done < count) {
            jx_sb_str(j, &b, new_);
            done++;
            if (i >= s.n) break;
            size_t st = i;
            jx_u8_next(s.s, s.n, &i);
            jx_sb_put(j, &b, s.s + st, i - st);
        }
        jx_sb_put(j, &b, s.s + i, s.n - i);
        return v_str(sb_done(&b));
    }
    while (count < 0 || done < count) {
        const char *hit = memmem(s.s + i, s.n - i, old.s, old.n);
        if (!hit) break;
        jx_sb_put(j, &b, s.s + i, (size_t)(hit - (s.s + i)));
        jx_sb_str(j, &b, new_);
        i = (size_t)(hit - s.s) + old.n;
        done++;
    }
    jx_sb_put(j, &b, s.s + i, s.n - i);
    return v_str(sb_done(&b));
}

static Val join_vals(J *j, List *l, Str sep, const Str *attr)
{
    SB b = { 0 };
    jx_sb_put(j, &b, "", 0);
    for (int i = 0; i < l->n; i++) {
        if (i) jx_sb_str(j, &b, sep);
        jx_to_str(j, &b, attr ? getattr_v(j, l->v[i], *attr) : l->v[i]);
    }
    return v_str(sb_done(&b));
}

static Val call_method(J *j, int fn, Val self, Args *c)
{
    if (fn >= F_DICT0) {
        Dict *d = self.u.d;
        const char *m = DICT_METHODS[fn - F_DICT0];
        c->what = arena_printf(&j->a, "dict.%s()", m);
        List *l = jx_list_new(j, d->n);
        if (fn - F_DICT0 == 3) {                                          /* get */
            Val k = arg(c, 0, NULL, v_undef(NULL)), dflt = arg(c, 1, NULL, v_none());
            args_done(j, c);
            Val *p = k.k == V_STR ? jx_dict_find(j, d, k.u.s) : NULL;
            return p ? *p : dflt;
        }
        args_done(j, c);
        for (int i = 0; i < d->n; i++) {
            if (fn - F_DICT0 == 1) l->v[i] = v_str(d->k[i]);
            else if (fn - F_DICT0 == 2) l->v[i] = d->v[i];
            else {
                List *pair = jx_list_new(j, 2);
                pair->tuple = 1;
                pair->v[0] = v_str(d->k[i]);
                pair->v[1] = d->v[i];
                l->v[i] = v_list(pair);
            }
        }
        return v_list(l);
    }
    Str s = self.u.s;
    jx_work(j, s.n);                  /* each method scans the string at most once (or twice: find) */
    const char *m = STR_METHODS[fn - F_STR0];
    c->what = arena_printf(&j->a, "str.%s()", m);
    Val r;
    switch (fn - F_STR0) {
    case 0: case 1: case 2: {                                         /* strip lstrip rstrip */
        Val ch = arg(c, 0, NULL, v_none());
        if (ch.k != V_NONE && ch.k != V_STR) TFAIL(j, "%s: chars must be a string", c->what);
        r = v_str(jx_py_strip(s, ch.k == V_STR ? &ch.u.s : NULL, fn - F_STR0 == 0 ? 3 : fn - F_STR0 == 1 ? 1 : 2));
        break;
    }
    case 3: r = v_str(case_map(j, s, 'U')); break;
    case 4: r = v_str(case_map(j, s, 'L')); break;
    case 5: r = v_str(case_map(j, s, 'T')); break;
    case 6: r = v_str(case_map(j, case_map(j, s, 'L'), 'C')); break;
    case 7: case 8: {                                                 /* startswith endswith */
        Val p = arg(c, 0, NULL, v_undef(NULL));
        List one = { &p, 1, 0 };
        List *alts = p.k == V_LIST ? p.u.l : &one;
        int hit = 0;
        for (int i = 0; i < alts->n; i++) {
            if (alts->v[i].k != V_STR) TFAIL(j, "%s: expected a string or a tuple of strings", c->what);
            Str x = alts->v[i].u.s;
            jx_work(j, x.n);
            if (x.n <= s.n && memcmp(fn - F_STR0 == 7 ? s.s : s.s + s.n - x.n, x.s, x.n) == 0) hit = 1;
        }
        r = v_bool(hit);
        break;
    }
    case 9: {                                                          /* split */
        Val sep = arg(c, 0, "sep", v_none()), mx = arg(c, 1, "maxsplit", v_int(-1));
        r = split_str(j, s, &sep, is_intlike(mx) ? as_int(mx) : -1);
        break;
    }
    case 10: {                                                         /* replace */
        Str o = arg_str(j, c, 0, NULL, ""), nw = arg_str(j, c, 1, NULL, "");
        Val cnt = arg(c, 2, NULL, v_int(-1));
        r = replace_str(j, s, o, nw, is_intlike(cnt) ? as_int(cnt) : -1);
        break;
    }
    case 11: {                                                         /* sep.join(xs) */
        List *l = iterate(j, arg(c, 0, NULL, v_undef("join() takes exactly one argument")));
        for (int i = 0; i < l->n; i++)
            if (l->v[i].k != V_STR) TFAIL(j, "sequence item %d: expected str instance, %s found", i, jx_tname(l->v[i]));
        r = join_vals(j, l, s, NULL);
        break;
    }
    default: {                                                         /* find count */
        Str x = arg_str(j, c, 0, NULL, "");
        int64_t cnt = 0, at = -1;
        if (x.n == 0) {
            at = 0;
            cnt = (int64_t)jx_u8_len(s) + 1;
        }
        /* memmem, not memcmp at every offset: that was O(len(s) * len(x)) */
        for (size_t i = 0; x.n && i + x.n <= s.n;) {
            const char *hit = memmem(s.s + i, s.n - i, x.s, x.n);
            if (!hit) break;
            size_t k = (size_t)(hit - s.s);
            if (at < 0) at = (int64_t)jx_u8_len((Str){ s.s, k });
            cnt++;
            i = k + x.n;
        }
        r = v_int(fn - F_STR0 == 12 ? at : cnt);
    }
    }
    args_done(j, c);
    return r;
}

static Val call(J *j, Val f, Args *c)
{
    if (f.k == V_UNDEF) TFAIL(j, "%s", f.u.why);
    if (f.k != V_FUNC) TFAIL(j, "'%s' object is not callable", jx_tname(f));
    if (f.fn >= F_STR0) return call_method(j, f.fn, *f.u.self, c);
    switch (f.fn) {
    case F_RAISE: {
        c->what = "raise_exception()";
        Val m = arg(c, 0, NULL, v_str(cstr("")));
        TFAIL(j, "template raised an exception: %s", zstr(j, jx_val_str(j, m)));
    }
    case F_NAMESPACE: case F_DICT: {
        Dict *d = jx_dict_new(j);
        d->ns = f.fn == F_NAMESPACE;
        if (c->na > 1) UFAIL(j, "too many arguments to %s()", d->ns ? "namespace" : "dict");
        if (c->na == 1) {
            if (c->a[0].k != V_DICT) TFAIL(j, "%s(): expected a dict", d->ns ? "namespace" : "dict");
            for (int i = 0; i < c->a[0].u.d->n; i++) jx_dict_set(j, d, c->a[0].u.d->k[i], c->a[0].u.d->v[i]);
        }
        for (int i = 0; i < c->nk; i++) jx_dict_set(j, d, c->kn[i], c->kv[i]);
        return v_dict(d);
    }
    case F_RANGE: {
        c->what = "range()";
        int64_t a = 0, b, st = 1;
        Val x = arg(c, 0, NULL, v_undef("range expected at least 1 argument")), y = arg(c, 1, NULL, v_none()),
            z = arg(c, 2, NULL, v_int(1));
        args_done(j, c);
        if (!is_intlike(x) || (y.k != V_NONE && !is_intlike(y)) || !is_intlike(z))
            TFAIL(j, "range() arguments must be integers");
        if (y.k == V_NONE) b = as_int(x); else { a = as_int(x); b = as_int(y); }
        st = as_int(z);
        if (st == 0) TFAIL(j, "range() arg 3 must not be zero");
        int64_t cnt = st > 0 ? (b > a ? (b - a + st - 1) / st : 0) : (a > b ? (a - b - st - 1) / -st : 0);
        if (cnt > MAX_RANGE) TFAIL(j, "range() of more than %d elements", MAX_RANGE);
        List *l = jx_list_new(j, (int)cnt);
        for (int64_t i = 0; i < cnt; i++) l->v[i] = v_int(a + i * st);
        return v_list(l);
    }
    case F_STRFTIME: {
        c->what = "strftime_now()";
        Str fmt = arg_str(j, c, 0, NULL, "");
        args_done(j, c);
        return fixed_strftime(j, fmt);
    }
    }
    TFAIL(j, "not callable");
}

/* ---- tests and filters ---------------------------------------------------------------- */

static int apply_test(J *j, Str name, Val v, Args *c)
{
    c->what = arena_printf(&j->a, "test '%s'", zstr(j, name));
    Val x = arg(c, 0, NULL, v_undef("a test argument is missing"));
    int r;
#define T(s) str_eq(name, s)
    if (T("defined")) r = v.k != V_UNDEF;
    else if (T("undefined")) r = v.k == V_UNDEF;
    else if (T("none")) r = v.k == V_NONE;
    else if (T("boolean")) r = v.k == V_BOOL;
    else if (T("true")) r = v.k == V_BOOL && v.u.b;
    else if (T("false")) r = v.k == V_BOOL && !v.u.b;
    else if (T("integer")) r = v.k == V_INT;
    else if (T("float")) r = v.k == V_FLOAT;
    else if (T("number")) r = is_num(v);
    else if (T("string")) r = v.k == V_STR;
    else if (T("mapping")) r = v.k == V_DICT && !v.u.d->ns;
    else if (T("iterable")) r = v.k == V_LIST || v.k == V_STR || v.k == V_UNDEF || (v.k == V_DICT && !v.u.d->ns);
    else if (T("sequence")) r = v.k == V_LIST || v.k == V_STR || v.k == V_UNDEF || (v.k == V_DICT && !v.u.d->ns);
    else if (T("callable")) r = v.k == V_FUNC;
    else if (T("even") || T("odd") || T("divisibleby")) {    /* value % n == 0 (or == 1), floats too */
        Val m = binop(j, '%', v, T("divisibleby") ? x : v_int(2));
        r = eq(j, m, v_int(T("odd") ? 1 : 0));
    } else if (T("eq") || T("equalto") || T("==")) r = eq(j, v, x);
    else if (T("ne") || T("!=")) r = !eq(j, v, x);
    else if (T("lt") || T("lessthan")) r = order(j, v, x, "<") < 0;
    else if (T("le")) r = order(j, v, x, "<=") <= 0;
    else if (T("gt") || T("greaterthan")) r = order(j, v, x, ">") > 0;
    else if (T("ge")) r = order(j, v, x, ">=") >= 0;
    else if (T("in")) r = contains(j, x, v);
    else if (T("sameas")) r = v.k == x.k && (v.k == V_NONE || v.k == V_UNDEF || (v.k == V_BOOL && v.u.b == x.u.b) ||
                                            (v.k == V_INT && v.u.i == x.u.i) || (v.k == V_LIST && v.u.l == x.u.l) ||
                                            (v.k == V_DICT && v.u.d == x.u.d) || (v.k == V_STR && str_same(v.u.s, x.u.s)));
    else if (T("lower") || T("upper")) {              /* str(v).islower(): some cased letter, none of the other case */
        Str s = jx_val_str(j, v);
        jx_work(j, s.n);
        int lo = 0, up = 0;
        for (size_t i = 0; i < s.n; i++) {
            lo |= s.s[i] >= 'a' && s.s[i] <= 'z';
            up |= s.s[i] >= 'A' && s.s[i] <= 'Z';
        }
        r = T("lower") ? lo && !up : up && !lo;
    } else UFAIL(j, "unsupported test '%.*s'", (int)name.n, name.s);
#undef T
    args_done(j, c);
    return r;
}

static Val apply_filter(J *j, Str name, Val v, Args *c);

/* select/reject/selectattr/rejectattr/map over a sequence */
static Val filter_seq(J *j, Str name, Val v, Args *c)
{
    int attr = str_eq(name, "selectattr") || str_eq(name, "rejectattr");
    int keep_if = name.s[0] == 's';
    List *l = truthy(v) ? iterate(j, v) : jx_list_new(j, 0), *r = jx_list_new(j, l->n);   /* Jinja: "if seq:" */
    r->n = 0;
    if (str_eq(name, "map")) {
        Val at = arg(c, -1, "attribute", v_undef(NULL));
        Val dflt = arg(c, -1, "default", v_undef(NULL));
        if (at.k == V_UNDEF) {
            Str fname = arg_str(j, c, 0, NULL, "");
            Args sub = { c->a + (c->na ? 1 : 0), c->na > 1 ? c->na - 1 : 0, NULL, NULL, 0, 0, 0, NULL };
            c->maxpos = c->na;
            args_done(j, c);
            for (int i = 0; i < l->n; i++) { sub.maxpos = 0; r->v[r->n++] = apply_filter(j, fname, l->v[i], &sub); }
            return v_list(r);
        }
        args_done(j, c);
        for (int i = 0; i < l->n; i++) {
            Val x = at.k == V_STR ? getattr_v(j, l->v[i], at.u.s) : getitem_v(j, l->v[i], at);
            if (x.k == V_UNDEF && dflt.k != V_UNDEF) x = dflt;
            r->v[r->n++] = x;
        }
        return v_list(r);
    }
    Val at = attr ? arg(c, 0, NULL, v_undef("selectattr needs an attribute")) : v_none();
    int t0 = attr ? 1 : 0;
    Val tn = arg(c, t0, NULL, v_undef(NULL));
    Args sub = { c->a + t0 + 1, c->na > t0 + 1 ? c->na - t0 - 1 : 0, NULL, NULL, 0, 0, 0, NULL };
    c->maxpos = c->na;
    args_done(j, c);
    if (attr && at.k != V_STR) TFAIL(j, "%.*s: the attribute must be a string", (int)name.n, name.s);
    if (tn.k != V_UNDEF && tn.k != V_STR) TFAIL(j, "%.*s: the test name must be a string", (int)name.n, name.s);
    for (int i = 0; i < l->n; i++) {
        Val x = attr ? getattr_v(j, l->v[i], at.u.s) : l->v[i];
        sub.maxpos = 0;
        int ok = tn.k == V_STR ? apply_test(j, tn.u.s, x, &sub) : truthy(x);
        if (ok == keep_if) r->v[r->n++] = l->v[i];
    }
    return v_list(r);
}

static Val apply_filter(J *j, Str name, Val v, Args *c)
{
    c->what = arena_printf(&j->a, "filter '%s'", zstr(j, name));
    Val r;
#define F(s) str_eq(name, s)
    if (F("default") || F("d")) {
        Val dflt = arg(c, 0, "default_value", v_str(cstr(""))), boolean = arg(c, 1, "boolean", v_bool(0));
        r = (v.k == V_UNDEF || (truthy(boolean) && !truthy(v))) ? dflt : v;
    } else if (F("select") || F("reject") || F("selectattr") || F("rejectattr") || F("map")) {
        return filter_seq(j, name, v, c);
    } else if (F("tojson")) {
        Val ind = arg(c, 0, "indent", v_none()), ea = arg(c, -1, "ensure_ascii", v_bool(0));
        if (ind.k != V_NONE && !is_intlike(ind)) TFAIL(j, "tojson: indent must be an integer");
        if (truthy(ea)) UFAIL(j, "tojson: ensure_ascii=True is not supported");
        args_done(j, c);
        SB b = { 0 };
        jx_to_json(j, &b, v, ind.k == V_NONE ? -1 : (int)(as_int(ind) < 0 ? 0 : as_int(ind) > 64 ? 64 : as_int(ind)), 0);
        r = v_str(sb_done(&b));
    } else if (F("length") || F("count")) {
        if (v.k == V_STR) jx_work(j, v.u.s.n);
        r = v_int(v.k == V_STR ? (int64_t)jx_u8_len(v.u.s) : v.k == V_UNDEF ? 0 : v.k == V_DICT ? v.u.d->n :
                  v.k == V_LIST ? v.u.l->n : (TFAIL(j, "object of type '%s' has no len()", jx_tname(v)), 0));
    } else if (F("first") || F("last")) {
        List *l = iterate(j, v);
        r = l->n ? l->v[F("first") ? 0 : l->n - 1] : v_undef(arena_printf(&j->a, "%s of an empty sequence", F("first") ? "first" : "last"));
    } else if (F("list")) {
        List *l = iterate(j, v), *o = jx_list_new(j, l->n);
        memcpy(o->v, l->v, sizeof(Val) * (size_t)l->n);
        r = v_list(o);
    } else if (F("items")) {
        if (v.k == V_UNDEF) r = v_list(jx_list_new(j, 0));
        else if (v.k != V_DICT || v.u.d->ns) TFAIL(j, "items: expected a mapping, got %s", jx_tname(v));
        else { Args none = { 0 }; none.what = "items"; r = call_method(j, F_DICT0, v, &none); }
    } else if (F("join")) {
        Str sep = arg_str(j, c, 0, "d", "");
        Val at = arg(c, 1, "attribute", v_none());
        r = join_vals(j, iterate(j, v), sep, at.k == V_STR ? &at.u.s : NULL);
    } else if (F("reverse")) {
        if (v.k == V_STR) {
            List *l = iterate(j, v);
            SB b = { 0 };
            jx_sb_put(j, &b, "", 0);
            for (int i = l->n - 1; i >= 0; i--) jx_sb_str(j, &b, l->v[i].u.s);
            r = v_str(sb_done(&b));
        } else {
            List *l = iterate(j, v), *o = jx_list_new(j, l->n);
            for (int i = 0; i < l->n; i++) o->v[i] = l->v[l->n - 1 - i];
            r = v_list(o);
        }
    } else if (F("abs")) {
        if (!is_num(v)) TFAIL(j, "bad operand type for abs(): '%s'", jx_tname(v));
        r = v.k == V_FLOAT ? v_float(fabs(v.u.f)) : v_int(as_int(v) < 0 ? -as_int(v) : as_int(v));
    } else if (F("int") || F("float")) {
        Val dflt = arg(c, 0, "default", F("int") ? v_int(0) : v_float(0.0));
        int isint = F("int");
        if (isint) arg(c, 1, "base", v_int(10));
        if (v.k == V_UNDEF) TFAIL(j, "%s", v.u.why);
        if (is_num(v)) r = isint ? v_int(v.k == V_FLOAT ? (int64_t)v.u.f : as_int(v)) : v_float(as_f(v));
        else if (v.k == V_STR) {
            jx_work(j, v.u.s.n);
            const char *z = zstr(j, jx_py_strip(v.u.s, NULL, 3));
            char *end;
            double d = strtod(z, &end);
            int ok = *z && !*end && !strpbrk(z, "xXpP") && !(isint && !isfinite(d));
            r = ok ? (isint ? v_int((int64_t)d) : v_float(d)) : dflt;   /* '42.23'|int is 42, as Jinja */
        } else r = dflt;
    } else if (F("string")) r = v_str(jx_val_str(j, v));
    else if (F("safe")) r = v;
    else {
        Str s = jx_val_str(j, v);
        jx_work(j, s.n);
        if (F("trim")) {
            Val ch = arg(c, 0, "chars", v_none());
            r = v_str(jx_py_strip(s, ch.k == V_STR ? &ch.u.s : NULL, 3));
        } else if (F("upper")) r = v_str(case_map(j, s, 'U'));
        else if (F("lower")) r = v_str(case_map(j, s, 'L'));
        else if (F("title")) r = v_str(case_map(j, s, 'J'));
        else if (F("capitalize")) r = v_str(case_map(j, case_map(j, s, 'L'), 'C'));
        else if (F("replace")) {
            Str o = arg_str(j, c, 0, "old", ""), nw = arg_str(j, c, 1, "new", "");
            Val cnt = arg(c, 2, "count", v_none());
            r = replace_str(j, s, o, nw, is_intlike(cnt) ? as_int(cnt) : -1);
        } else UFAIL(j, "unsupported filter '%.*s'", (int)name.n, name.s);
    }
#undef F
    args_done(j, c);
    return r;
}

/* ---- evaluation ---------------------------------------------------------------------- */

static Val eval(J *j, Scope *sc, Node *x);

static Args eval_args(J *j, Scope *sc, Node *x)
{
    Args c = { 0 };
    if (x->m > 32) UFAIL(j, "more than 32 keyword arguments");
    c.na = x->n;
    c.a = ARENA_ARRAY(&j->a, Val, x->n ? x->n : 1);
    for (int i = 0; i < x->n; i++) c.a[i] = eval(j, sc, x->v[i]);
    c.nk = x->m;
    c.kn = x->names;
    c.kv = ARENA_ARRAY(&j->a, Val, x->m ? x->m : 1);
    for (int i = 0; i < x->m; i++) c.kv[i] = eval(j, sc, x->w[i]);
    return c;
}

static Val eval(J *j, Scope *sc, Node *x)
{
    j->at = x->pos;
    jx_work(j, 64);
    switch (x->k) {
    case N_CONST: return x->val;
    case N_NAME: {
        Val *p = scope_find(j, sc, x->s);
        return p ? *p : v_undef(arena_printf(&j->a, "'%.*s' is undefined", (int)x->s.n, x->s.s));
    }
    case N_ATTR: { Val o = eval(j, sc, x->a); j->at = x->pos; return getattr_v(j, o, x->s); }
    case N_ITEM: {
        Val o = eval(j, sc, x->a);
        if (x->b->k == N_SLICE) {
            Node *s = x->b;
            Val lo = s->a ? eval(j, sc, s->a) : v_none(), hi = s->b ? eval(j, sc, s->b) : v_none(),
                st = s->c ? eval(j, sc, s->c) : v_none();
            j->at = x->pos;
            return slice(j, o, lo, hi, st);
        }
        Val k = eval(j, sc, x->b);
        j->at = x->pos;
        return getitem_v(j, o, k);
    }
    case N_CALL: {
        Val f = eval(j, sc, x->a);
        Args c = eval_args(j, sc, x);
        j->at = x->pos;
        return call(j, f, &c);
    }
    case N_FILTER: {
        Val v = eval(j, sc, x->a);
        Args c = eval_args(j, sc, x);
        j->at = x->pos;
        return apply_filter(j, x->s, v, &c);
    }
    case N_TEST: {
        Val v = eval(j, sc, x->a);
        Args c = eval_args(j, sc, x);
        j->at = x->pos;
        return v_bool(apply_test(j, x->s, v, &c) != x->op);
    }
    case N_NEG: case N_POS: {
        Val v = eval(j, sc, x->a);
        j->at = x->pos;
        if (v.k == V_UNDEF) TFAIL(j, "%s", v.u.why);
        if (!is_num(v)) TFAIL(j, "bad operand type for unary %c: '%s'", x->k == N_NEG ? '-' : '+', jx_tname(v));
        if (x->k == N_POS) return v.k == V_BOOL ? v_int(v.u.b) : v;
        if (v.k == V_FLOAT) return v_float(-v.u.f);
        if (as_int(v) == INT64_MIN) TFAIL(j, "integer overflow in unary '-'");
        return v_int(-as_int(v));
    }
    case N_NOT: return v_bool(!truthy(eval(j, sc, x->a)));
    case N_AND: { Val a = eval(j, sc, x->a); return truthy(a) ? eval(j, sc, x->b) : a; }
    case N_OR:  { Val a = eval(j, sc, x->a); return truthy(a) ? a : eval(j, sc, x->b); }
    case N_COND:
        if (truthy(eval(j, sc, x->b))) return eval(j, sc, x->a);
        return x->c ? eval(j, sc, x->c) : v_undef("the inline if expression evaluated to false and no else section was defined");
    case N_BIN: {
        Val a = eval(j, sc, x->a), b = eval(j, sc, x->b);
        j->at = x->pos;
        return binop(j, x->op, a, b);
    }
    case N_CMP: {
        Val a = eval(j, sc, x->a);
        for (int i = 0; i < x->n; i++) {
            Val b = eval(j, sc, x->v[i]);
            int op = x->ops[i], r;
            j->at = x->pos;
            switch (op) {
            case 'E': r = eq(j, a, b); break;
            case 'N': r = !eq(j, a, b); break;
            case 'I': r = contains(j, b, a); break;
            case 'X': r = !contains(j, b, a); break;
            case '<': r = order(j, a, b, "<") < 0; break;
            case 'L': r = order(j, a, b, "<=") <= 0; break;
            case '>': r = order(j, a, b, ">") > 0; break;
            default:  r = order(j, a, b, ">=") >= 0; break;
            }
            if (!r) return v_bool(0);
            a = b;
        }
        return v_bool(1);
    }
    case N_LIST: case N_TUPLE: {
        List *l = jx_list_new(j, x->n);
        l->tuple = x->k == N_TUPLE;
        for (int i = 0; i < x->n; i++) l->v[i] = eval(j, sc, x->v[i]);
        return v_list(l);
    }
    case N_DICT: {
        Dict *d = jx_dict_new(j);
        for (int i = 0; i < x->n; i++) {
            Val k = eval(j, sc, x->v[i]);
            if (k.k != V_STR) { j->at = x->v[i]->pos; UFAIL(j, "unsupported: dict keys other than strings"); }
            jx_dict_set(j, d, k.u.s, eval(j, sc, x->w[i]));
        }
        return v_dict(d);
    }
    default: break;
    }
    UFAIL(j, "internal: not an expression");
}

static void assign(J *j, Scope *sc, Node *x, Val v)
{
    if (x->nn == 1) { scope_set(j, sc, x->names[0], v); return; }
    if (v.k == V_UNDEF) TFAIL(j, "%s", v.u.why);
    List *l = iterate(j, v);
    if (l->n != x->nn) TFAIL(j, "cannot unpack %d values into %d names", l->n, x->nn);
    for (int i = 0; i < x->nn; i++) scope_set(j, sc, x->names[i], l->v[i]);
}

enum { FLOW_NEXT, FLOW_BREAK, FLOW_CONTINUE };

static int exec_body(J *j, Scope *sc, Node **body, int n);

static int exec_for(J *j, Scope *sc, Node *x)
{
    Val seq = eval(j, sc, x->a);
    j->at = x->a->pos;
    List *l = iterate(j, seq);
    Val *items = l->v;
    int cnt = l->n;
    if (x->b) {
        items = ARENA_ARRAY(&j->a, Val, cnt ? cnt : 1);
        cnt = 0;
        for (int i = 0; i < l->n; i++) {
            Scope fs = { .up = sc };
            assign(j, &fs, x, l->v[i]);
            if (truthy(eval(j, &fs, x->b))) items[cnt++] = l->v[i];
        }
    }
    /* One loop object and one iteration scope per loop, updated in place:
     * Jinja's LoopContext is also a single object that advances, and
     * nothing can keep a reference to a finished iteration's scope. */
    static const char *const keys[] = { "index", "index0", "revindex", "revindex0", "first", "last", "length",
                                         "depth", "depth0", "previtem", "nextitem" };
    Dict *lp = jx_dict_new(j);
    Scope is = { .up = sc };
    for (int i = 0; i < cnt; i++) {
        if (++j->iters > MAX_ITERS) { j->at = x->pos; TFAIL(j, "more than %ld loop iterations", MAX_ITERS); }
        is.n = 0;
        lp->n = 0;
        j->at = x->pos;
        assign(j, &is, x, items[i]);
        Val vals[] = { v_int(i + 1), v_int(i), v_int(cnt - i), v_int(cnt - i - 1), v_bool(i == 0),
                       v_bool(i == cnt - 1), v_int(cnt), v_int(1), v_int(0) };
        for (int k = 0; k < 9; k++) jx_dict_set(j, lp, cstr(keys[k]), vals[k]);
        if (i > 0) jx_dict_set(j, lp, cstr(keys[9]), items[i - 1]);
        if (i + 1 < cnt) jx_dict_set(j, lp, cstr(keys[10]), items[i + 1]);
        scope_set(j, &is, cstr("loop"), v_dict(lp));
        if (exec_body(j, &is, x->v, x->n) == FLOW_BREAK) break;
    }
    if (cnt == 0 && x->m) return exec_body(j, sc, x->w, x->m);
    return FLOW_NEXT;
}

static int exec_body(J *j, Scope *sc, Node **body, int n)
{
    for (int i = 0; i < n; i++) {
        Node *x = body[i];
        int flow = FLOW_NEXT;
        j->at = x->pos;
        jx_work(j, 64);
        switch (x->k) {
        case S_TEXT:  jx_sb_str(j, j->out, x->s); break;
        case S_PRINT: { Val v = eval(j, sc, x->a); j->at = x->pos; jx_to_str(j, j->out, v); break; }
        case S_IF:
            if (truthy(eval(j, sc, x->a))) flow = exec_body(j, sc, x->v, x->n);
            else flow = exec_body(j, sc, x->w, x->m);
            break;
        case S_FOR:   flow = exec_for(j, sc, x); break;
        case S_SET:   { Val v = eval(j, sc, x->a); j->at = x->pos; assign(j, sc, x, v); break; }
        case S_SETNS: {
            Val v = eval(j, sc, x->a);
            Val *ns = scope_find(j, sc, x->names[0]);
            j->at = x->pos;
            if (!ns || ns->k != V_DICT || !ns->u.d->ns)
                TFAIL(j, "cannot assign attribute on non-namespace object '%.*s'", (int)x->names[0].n, x->names[0].s);
            jx_dict_set(j, ns->u.d, x->s, v);
            break;
        }
        case S_SETBLOCK: {
            SB cap = { 0 }, *saved = j->out;
            jx_sb_put(j, &cap, "", 0);
            j->out = &cap;
            flow = exec_body(j, sc, x->v, x->n);
            j->out = saved;
            scope_set(j, sc, x->names[0], v_str(sb_done(&cap)));
            break;
        }
        case S_BODY:  flow = exec_body(j, sc, x->v, x->n); break;
        case S_BREAK: return FLOW_BREAK;
        case S_CONTINUE: return FLOW_CONTINUE;
        default: UFAIL(j, "internal: not a statement");
        }
        if (flow != FLOW_NEXT) return flow;
    }
    return FLOW_NEXT;
}


void jx_exec(J *j, NV body, const ChatMessage *msgs, int n, const char *bos, const char *eos,
             int add_generation_prompt, SB *out)
{
    Scope globals = { 0 }, top = { .up = &globals };
    List *ml = jx_list_new(j, n);
    for (int i = 0; i < n; i++) {
        Dict *d = jx_dict_new(j);
        jx_dict_set(j, d, cstr("role"), v_str(cstr(msgs[i].role ? msgs[i].role : "")));
        jx_dict_set(j, d, cstr("content"), msgs[i].content ? v_str(cstr(msgs[i].content)) : v_none());
        ml->v[i] = v_dict(d);
    }
    scope_set(j, &globals, cstr("messages"), v_list(ml));
    if (bos) scope_set(j, &globals, cstr("bos_token"), v_str(cstr(bos)));
    if (eos) scope_set(j, &globals, cstr("eos_token"), v_str(cstr(eos)));
    scope_set(j, &globals, cstr("add_generation_prompt"), v_bool(add_generation_prompt));
    scope_set(j, &globals, cstr("tools"), v_none());
    scope_set(j, &globals, cstr("documents"), v_none());
    static const char *const fns[] = { "raise_exception", "namespace", "range", "strftime_now", "dict" };
    for (int i = 0; i < 5; i++) scope_set(j, &globals, cstr(fns[i]), v_func(i, NULL));
    j->out = out;
    exec_body(j, &top, body.v, body.n);
}
