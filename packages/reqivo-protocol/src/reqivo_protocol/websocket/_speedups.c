/*
 * Optional accelerator for client-to-server masking (RFC 6455 section 5.3).
 *
 * The pure-Python implementation in _mask.py / _frames.py is the reference and the
 * fallback: this module only makes the same functions fast. It XORs eight bytes at a
 * time (the compiler vectorises the loop), and encode_frame writes the frame header and
 * the masked payload into one new bytes object, so a 1 MiB message is copied once.
 * Inputs are never modified. See docs/architecture/ADR-008-websocket-masking-speedups.md.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* The frame header layout defined in _frames.py (RFC 6455 section 5.2): byte 1 holds the
 * MASK bit and a length of up to 125, or 126 / 127 for a 16-bit / 64-bit length that
 * follows; then the 4-byte masking key. */
#define MASK_BIT 0x80
#define MAX_SHORT_LENGTH 125
#define LENGTH_16 126
#define LENGTH_64 127
#define KEY_SIZE 4

/* XOR n bytes of src with key (repeated, starting at key[0]) into dst. */
static void
xor_key(unsigned char *dst, const unsigned char *src, Py_ssize_t n, const unsigned char key[4])
{
    Py_ssize_t i = 0;
    if (n >= 16) {
        uint64_t key64;
        unsigned char k8[8];
        memcpy(k8, key, 4);
        memcpy(k8 + 4, key, 4);
        memcpy(&key64, k8, 8);
        for (; i + 8 <= n; i += 8) {
            uint64_t word;
            memcpy(&word, src + i, 8);
            word ^= key64;
            memcpy(dst + i, &word, 8);
        }
    }
    for (; i < n; i++) {
        dst[i] = src[i] ^ key[i & 3];
    }
}

static int
get_key(PyObject *obj, Py_buffer *key)
{
    if (PyObject_GetBuffer(obj, key, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    if (key->len != KEY_SIZE) {
        PyBuffer_Release(key);
        PyErr_SetString(PyExc_ValueError, "the masking key must be 4 bytes long");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(mask_doc,
"mask(data, key, /)\n--\n\n"
"XOR ``data`` with the 4-byte ``key`` repeated; masking and unmasking are the same.");

static PyObject *
mask(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer data, key;
    PyObject *result;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "mask() takes exactly 2 arguments (data, key)");
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &data, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (get_key(args[1], &key) < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    result = PyBytes_FromStringAndSize(NULL, data.len);
    if (result != NULL) {
        xor_key((unsigned char *)PyBytes_AS_STRING(result), data.buf, data.len, key.buf);
    }
    PyBuffer_Release(&key);
    PyBuffer_Release(&data);
    return result;
}

PyDoc_STRVAR(encode_frame_doc,
"encode_frame(first_byte, payload, key, /)\n--\n\n"
"A masked client frame: ``first_byte`` carries FIN, RSV and the opcode.");

static PyObject *
encode_frame(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer payload, key;
    PyObject *result;
    unsigned char *out;
    Py_ssize_t n, header;
    long first_byte;

    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError,
                        "encode_frame() takes exactly 3 arguments (first_byte, payload, key)");
        return NULL;
    }
    first_byte = PyLong_AsLong(args[0]);
    if (first_byte == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (first_byte < 0 || first_byte > 255) {
        PyErr_SetString(PyExc_ValueError, "first_byte must be in range(256)");
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &payload, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (get_key(args[2], &key) < 0) {
        PyBuffer_Release(&payload);
        return NULL;
    }
    n = payload.len;
    header = 2 + (n <= MAX_SHORT_LENGTH ? 0 : (n < 0x10000 ? 2 : 8)) + KEY_SIZE;
    result = PyBytes_FromStringAndSize(NULL, header + n);
    if (result != NULL) {
        out = (unsigned char *)PyBytes_AS_STRING(result);
        out[0] = (unsigned char)first_byte;
        if (n <= MAX_SHORT_LENGTH) {
            out[1] = (unsigned char)(MASK_BIT | n);
        }
        else if (n < 0x10000) {
            out[1] = MASK_BIT | LENGTH_16;
            out[2] = (unsigned char)(n >> 8);
            out[3] = (unsigned char)n;
        }
        else {
            uint64_t length = (uint64_t)n;
            out[1] = MASK_BIT | LENGTH_64;
            for (int i = 0; i < 8; i++) {
                out[2 + i] = (unsigned char)(length >> (56 - 8 * i));
            }
        }
        memcpy(out + header - KEY_SIZE, key.buf, KEY_SIZE);
        xor_key(out + header, payload.buf, n, key.buf);
    }
    PyBuffer_Release(&key);
    PyBuffer_Release(&payload);
    return result;
}

static PyMethodDef speedups_methods[] = {
    {"mask", (PyCFunction)(void (*)(void))mask, METH_FASTCALL, mask_doc},
    {"encode_frame", (PyCFunction)(void (*)(void))encode_frame, METH_FASTCALL, encode_frame_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot speedups_slots[] = {
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
    .m_name = "reqivo_protocol.websocket._speedups",
    .m_doc = "Compiled WebSocket masking (optional; the pure-Python code is the reference).",
    .m_size = 0,
    .m_methods = speedups_methods,
    .m_slots = speedups_slots,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
