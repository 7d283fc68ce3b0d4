/*
 * Optional accelerator for parsing a response head (RFC 9112 sections 2, 4 and 5).
 *
 * The pure-Python parser in _head.py is the reference and the fallback: this module only
 * makes its common case fast. parse_status_head(block, max_header_count) returns exactly
 * what _head.parse_status_head_python returns for a head in strict form: CRLF line
 * endings only, no control character but HTAB, a status line "HTTP/1.1 ddd[ reason]" or
 * "HTTP/1.0 ...", field names that are RFC 9110 tokens directly followed by the colon, and
 * at most max_header_count fields. For anything else it returns None, and the Python
 * parser decides: it accepts what it is lenient about (bare LF line endings) and raises
 * its precise errors. So the accelerator never accepts a head the reference refuses, and
 * never raises. See docs/architecture/ADR-016-http11-head-speedups.md.
 *
 * Safety: one forward pass over the bytes object, every index checked against its length
 * before it is read; the input is never modified.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* Byte classes. FIELD_BYTE: allowed in a status line or field line (HTAB, SP, VCHAR,
 * obs-text; _head._ALLOWED). TOKEN_BYTE: an RFC 9110 tchar. */
#define FIELD_BYTE 1
#define TOKEN_BYTE 2

/* Generated from those two definitions (one row per 16 byte values). */
static const unsigned char byte_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,  /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x10 */
    1, 3, 1, 3, 3, 3, 3, 3, 1, 1, 3, 3, 1, 3, 3, 1,  /* 0x20 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1,  /* 0x30 */
    1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,  /* 0x40 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 3, 3,  /* 0x50 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,  /* 0x60 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 3, 1, 3, 0,  /* 0x70 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x80 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x90 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xa0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xb0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xc0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xd0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xe0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xf0 */
};

/* Module state: the two version strings, shared by every parsed head. */
typedef struct {
    PyObject *version_11;
    PyObject *version_10;
} speedups_state;

static inline speedups_state *
get_state(PyObject *module)
{
    return (speedups_state *)PyModule_GetState(module);
}

/* A token's lower-case form: the same object when it has no upper-case letter. */
static PyObject *
lower_token(PyObject *name, const unsigned char *start, Py_ssize_t size)
{
    char small[128];
    char *lowered;
    PyObject *result;
    Py_ssize_t i, upper = -1;
    for (i = 0; i < size; i++) {
        if (start[i] >= 'A' && start[i] <= 'Z') {
            upper = i;
            break;
        }
    }
    if (upper < 0) {
        Py_INCREF(name);
        return name;
    }
    lowered = size <= (Py_ssize_t)sizeof(small) ? small : PyMem_Malloc((size_t)size);
    if (lowered == NULL) {
        return PyErr_NoMemory();
    }
    for (i = 0; i < size; i++) {
        unsigned char c = start[i];
        lowered[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    result = PyUnicode_DecodeASCII(lowered, size, NULL);
    if (lowered != small) {
        PyMem_Free(lowered);
    }
    return result;
}

/* Parse one field line data[start:end] (its CRLF excluded) and append its triple and
 * lower-case name. 1: appended; 0: not strict form (the caller returns None); -1: a Python
 * error is set. */
static int
parse_field(const unsigned char *data, Py_ssize_t start, Py_ssize_t end, PyObject *fields,
            PyObject *lowers)
{
    Py_ssize_t colon = start, first, last;
    PyObject *name, *lower, *value, *triple;
    int status;
    while (colon < end && (byte_class[data[colon]] & TOKEN_BYTE)) {
        colon++;
    }
    if (colon == start || colon == end || data[colon] != ':') {
        return 0; /* an empty name, a non-token byte in it, or no colon */
    }
    first = colon + 1;
    last = end;
    while (first < last && (data[first] == ' ' || data[first] == '\t')) {
        first++;
    }
    while (last > first && (data[last - 1] == ' ' || data[last - 1] == '\t')) {
        last--;
    }
    name = PyUnicode_DecodeASCII((const char *)data + start, colon - start, NULL);
    if (name == NULL) {
        return -1;
    }
    lower = lower_token(name, data + start, colon - start);
    if (lower == NULL) {
        Py_DECREF(name);
        return -1;
    }
    value = PyUnicode_DecodeLatin1((const char *)data + first, last - first, NULL);
    if (value == NULL) {
        Py_DECREF(name);
        Py_DECREF(lower);
        return -1;
    }
    triple = PyTuple_Pack(3, name, lower, value);
    Py_DECREF(name);
    Py_DECREF(value);
    if (triple == NULL) {
        Py_DECREF(lower);
        return -1;
    }
    status = PyList_Append(fields, triple) < 0 || PyList_Append(lowers, lower) < 0 ? -1 : 1;
    Py_DECREF(triple);
    Py_DECREF(lower);
    return status;
}

/* The end of the line starting at start: the index of its CR, which a LF follows. -1 if
 * a byte on the way is not allowed in a line (a bare CR or LF, a control character) or
 * the block ends first. */
static Py_ssize_t
line_end(const unsigned char *data, Py_ssize_t start, Py_ssize_t size)
{
    Py_ssize_t i;
    for (i = start; i < size; i++) {
        if (!(byte_class[data[i]] & FIELD_BYTE)) {
            if (data[i] == '\r' && i + 1 < size && data[i + 1] == '\n') {
                return i;
            }
            return -1;
        }
    }
    return -1;
}

static PyObject *
parse_status_head(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    speedups_state *state = get_state(module);
    const unsigned char *data;
    Py_ssize_t size, max_count, end, pos, code;
    PyObject *version, *reason = NULL, *fields = NULL, *lowers = NULL, *result;

    if (nargs != 2 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "parse_status_head(block: bytes, max_header_count: int)");
        return NULL;
    }
    max_count = PyLong_AsSsize_t(args[1]);
    if (max_count == -1 && PyErr_Occurred()) {
        return NULL;
    }
    data = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    size = PyBytes_GET_SIZE(args[0]);
    /* The block ends with the empty line: "\r\n\r\n" in strict form. */
    if (size < 16 || memcmp(data + size - 4, "\r\n\r\n", 4) != 0) {
        Py_RETURN_NONE;
    }
    /* The status line: "HTTP/1.x ddd", then nothing or SP and the reason phrase. */
    end = line_end(data, 0, size);
    if (end < 12 || memcmp(data, "HTTP/1.", 7) != 0 || data[8] != ' ') {
        Py_RETURN_NONE;
    }
    if (data[7] == '1') {
        version = state->version_11;
    }
    else if (data[7] == '0') {
        version = state->version_10;
    }
    else {
        Py_RETURN_NONE;
    }
    if (data[9] < '1' || data[9] > '9' || data[10] < '0' || data[10] > '9' || data[11] < '0'
        || data[11] > '9' || (end > 12 && data[12] != ' ')) {
        Py_RETURN_NONE;
    }
    code = (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
    reason = end > 13 ? PyUnicode_DecodeLatin1((const char *)data + 13, end - 13, NULL)
                      : PyUnicode_New(0, 0);
    fields = PyList_New(0);
    lowers = PyList_New(0);
    if (reason == NULL || fields == NULL || lowers == NULL) {
        goto error;
    }
    /* The field lines, up to the empty line that ends the block. */
    pos = end + 2;
    while (pos < size - 2) {
        int appended;
        if (PyList_GET_SIZE(fields) >= max_count) {
            goto not_strict; /* too many: the reference raises TooManyHeaders */
        }
        end = line_end(data, pos, size);
        if (end < 0) {
            goto not_strict;
        }
        appended = parse_field(data, pos, end, fields, lowers);
        if (appended < 0) {
            goto error;
        }
        if (appended == 0) {
            goto not_strict;
        }
        pos = end + 2;
    }
    if (pos != size - 2) {
        goto not_strict; /* cannot happen: the block ends with CRLF CRLF */
    }
    result = Py_BuildValue("(OnNNN)", version, code, reason, fields, lowers);
    return result;

not_strict:
    Py_XDECREF(reason);
    Py_XDECREF(fields);
    Py_XDECREF(lowers);
    Py_RETURN_NONE;

error:
    Py_XDECREF(reason);
    Py_XDECREF(fields);
    Py_XDECREF(lowers);
    return NULL;
}

static PyMethodDef speedups_methods[] = {
    {"parse_status_head", (PyCFunction)(void (*)(void))parse_status_head, METH_FASTCALL,
     "parse_status_head(block, max_header_count) -> (http_version, status_code, reason, "
     "fields, lowers) | None\n\nA response head in strict form, parsed; None for any other "
     "(the pure-Python parser then decides)."},
    {NULL, NULL, 0, NULL},
};

static int
speedups_exec(PyObject *module)
{
    speedups_state *state = get_state(module);
    state->version_11 = PyUnicode_InternFromString("1.1");
    state->version_10 = PyUnicode_InternFromString("1.0");
    if (state->version_11 == NULL || state->version_10 == NULL) {
        return -1;
    }
    return 0;
}

static int
speedups_traverse(PyObject *module, visitproc visit, void *arg)
{
    speedups_state *state = get_state(module);
    Py_VISIT(state->version_11);
    Py_VISIT(state->version_10);
    return 0;
}

static int
speedups_clear(PyObject *module)
{
    speedups_state *state = get_state(module);
    Py_CLEAR(state->version_11);
    Py_CLEAR(state->version_10);
    return 0;
}

static void
speedups_free(void *module)
{
    speedups_clear((PyObject *)module);
}

static PyModuleDef_Slot speedups_slots[] = {
    {Py_mod_exec, speedups_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "reqivo_protocol.http11._speedups",
    .m_doc = "Optional accelerator for parsing HTTP/1.1 response heads (ADR-016).",
    .m_size = sizeof(speedups_state),
    .m_methods = speedups_methods,
    .m_slots = speedups_slots,
    .m_traverse = speedups_traverse,
    .m_clear = speedups_clear,
    .m_free = speedups_free,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
