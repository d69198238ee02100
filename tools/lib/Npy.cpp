//===- Npy.cpp - read and write numpy .npy files --------------------------===//
//
// The .npy format (numpy's NEP 1): a magic string, a version, a header
// length and a Python dict literal with 'descr', 'fortran_order' and
// 'shape', then the raw elements. Only what numpy writes for C-order arrays
// of plain little-endian numbers is accepted; anything else is an error that
// says what was found.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace qopt_run {

static const StringLiteral kTypeCodes[] = {"f2", "f4", "f8", "i1", "i2", "i4",
                                           "i8", "u1", "u2", "u4", "u8", "b1"};

ArrayRef<StringLiteral> npyTypeCodes() { return kTypeCodes; }

size_t npyItemSize(StringRef dtype) {
  if (!is_contained(kTypeCodes, dtype))
    return 0;
  return dtype[1] - '0';
}

std::string npyTypeName(StringRef dtype) {
  if (!is_contained(kTypeCodes, dtype))
    return "'" + dtype.str() + "'";
  if (dtype == "b1")
    return "bool";
  std::string bits = std::to_string(8 * npyItemSize(dtype));
  switch (dtype[0]) {
  case 'f':
    return "float" + bits;
  case 'i':
    return "int" + bits;
  default:
    return "uint" + bits;
  }
}

std::string npyShapeString(ArrayRef<int64_t> shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

int64_t NpyArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

bool readNpy(const std::string &path, NpyArray &array, std::string &err) {
  auto fail = [&](const std::string &what) {
    err = path + ": " + what;
    return false;
  };
  auto file = MemoryBuffer::getFile(path, /*IsText=*/false,
                                    /*RequiresNullTerminator=*/false);
  if (!file)
    return fail("cannot read: " + file.getError().message());
  StringRef bytes = (*file)->getBuffer();
  if (!bytes.starts_with("\x93NUMPY"))
    return fail("not an .npy file (no \\x93NUMPY magic)");
  if (bytes.size() < 10)
    return fail("truncated .npy file (" + std::to_string(bytes.size()) +
                " bytes)");
  unsigned major = (unsigned char)bytes[6];
  size_t headerLen, headerAt;
  if (major == 1) {
    headerLen = (unsigned char)bytes[8] | (unsigned char)bytes[9] << 8;
    headerAt = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail("truncated .npy file (" + std::to_string(bytes.size()) +
                  " bytes)");
    headerLen = 0;
    for (int i = 3; i >= 0; --i)
      headerLen = headerLen << 8 | (unsigned char)bytes[8 + i];
    headerAt = 12;
  } else {
    return fail("unsupported .npy version " + std::to_string(major));
  }
  if (headerAt + headerLen > bytes.size())
    return fail("truncated .npy header (" + std::to_string(headerLen) +
                " bytes announced, " + std::to_string(bytes.size() - headerAt) +
                " present)");
  StringRef header = bytes.substr(headerAt, headerLen);
  auto field = [&](StringRef key) -> StringRef {
    size_t at = header.find("'" + key.str() + "'");
    if (at == StringRef::npos)
      return {};
    StringRef rest = header.drop_front(at + key.size() + 2).ltrim();
    return rest.consume_front(":") ? rest.ltrim() : StringRef();
  };
  StringRef descr = field("descr");
  if (!descr.consume_front("'"))
    return fail("malformed .npy header: no 'descr'");
  descr = descr.take_until([](char c) { return c == '\''; });
  // '<' (little), '|' (no order) and '=' (native, little on the hosts qopt
  // runs on) are accepted; the order character is then dropped.
  array.dtype.clear();
  if (descr.size() == 3 && StringRef("<|=").contains(descr[0]) &&
      is_contained(kTypeCodes, descr.drop_front()))
    array.dtype = descr.drop_front().str();
  if (array.dtype.empty())
    return fail("element type '" + descr.str() +
                "' is not supported (little-endian float16/32/64, "
                "[u]int8/16/32/64 and bool are)");
  StringRef fortran = field("fortran_order");
  if (fortran.starts_with("True"))
    return fail("Fortran-order arrays are not supported; save a C-order "
                "copy (np.save(path, np.ascontiguousarray(a)))");
  if (!fortran.starts_with("False"))
    return fail("malformed .npy header: no 'fortran_order'");
  StringRef shape = field("shape");
  if (!shape.consume_front("("))
    return fail("malformed .npy header: no 'shape'");
  if (shape.find(')') == StringRef::npos)
    return fail("malformed .npy header: bad 'shape'");
  shape = shape.take_until([](char c) { return c == ')'; });
  array.shape.clear();
  SmallVector<StringRef> dims;
  shape.split(dims, ',', -1, /*KeepEmpty=*/false);
  size_t need = npyItemSize(array.dtype);
  for (StringRef d : dims) {
    int64_t v;
    if (d.trim().empty())
      continue;
    if (d.trim().getAsInteger(10, v) || v < 0 ||
        (v && need > SIZE_MAX / (uint64_t)v))
      return fail("malformed .npy header: bad shape (" + shape.str() + ")");
    need *= v;
    array.shape.push_back(v);
  }
  StringRef payload = bytes.drop_front(headerAt + headerLen);
  if (payload.size() != need)
    return fail((payload.size() < need ? "truncated: holds " : "holds ") +
                std::to_string(payload.size()) + " bytes of data, but a " +
                npyTypeName(array.dtype) + " array of shape " +
                npyShapeString(array.shape) + " needs " + std::to_string(need));
  array.data.assign(payload.begin(), payload.end());
  return true;
}

bool writeNpy(const std::string &path, const NpyArray &array,
              std::string &err) {
  if (!npyItemSize(array.dtype)) {
    err = path + ": element type " + npyTypeName(array.dtype) +
          " cannot be written";
    return false;
  }
  std::string descr = (array.dtype[1] == '1' ? "|" : "<") + array.dtype;
  std::string header =
      "{'descr': '" + descr +
      "', 'fortran_order': False, 'shape': " + npyShapeString(array.shape) +
      ", }";
  // Magic (6) + version (2) + length (2) + header + '\n', 64-byte aligned.
  header.append(63 - (10 + header.size()) % 64, ' ');
  header += '\n';
  std::error_code ec;
  raw_fd_ostream os(path, ec);
  if (ec) {
    err = path + ": cannot write: " + ec.message();
    return false;
  }
  os << "\x93NUMPY" << '\x01' << '\x00' << char(header.size() & 0xff)
     << char(header.size() >> 8) << header;
  os.write(array.data.data(), array.data.size());
  os.close();
  if (os.has_error()) {
    err = path + ": cannot write: " + os.error().message();
    os.clear_error();
    return false;
  }
  return true;
}

} // namespace qopt_run
