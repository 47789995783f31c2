// snn2ann/core: the exceptions the library throws. Every message says what went wrong
// and, where a file is involved, which file.
#pragma once

#include <stdexcept>
#include <string>

namespace snn2ann::inline v0 {

/// Base of every exception thrown by snn2ann.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A file could not be read or written, or its content is not what its format says.
class io_error : public error {
public:
    /// "snn2ann: FILE: WHAT".
    io_error(const std::string& file, const std::string& what)
        : error("snn2ann: " + file + ": " + what), file_(file) {}
    /// The file the error is about.
    const std::string& file() const noexcept { return file_; }

private:
    std::string file_;
};

/// An argument given at run time is out of its domain (batch size 0, a label >= classes...).
class invalid_argument : public error {
public:
    /// "snn2ann: WHAT".
    explicit invalid_argument(const std::string& what) : error("snn2ann: " + what) {}
};

/// Training produced a NaN or an infinity: the message names the epoch, the step, the
/// batch and the first layer whose output or gradient is not finite.
class non_finite_error : public error {
public:
    /// "snn2ann: WHAT".
    explicit non_finite_error(const std::string& what) : error("snn2ann: " + what) {}
};

/// The CUDA backend failed: a CUDA runtime or cuBLAS call (named with its error), an
/// argument a GEMM of the host execution refuses as cuBLAS would, or no GPU to run on.
class cuda_error : public error {
public:
    /// "snn2ann: WHAT".
    explicit cuda_error(const std::string& what) : error("snn2ann: " + what) {}
};

}  // namespace snn2ann::inline v0
