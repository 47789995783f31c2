// The command lines of the example and benchmark programs: flags with a value, switches
// and --help, read in order. A mistyped flag, a flag without its value or a value that
// is not a number stops the program with a message that names it, instead of being
// ignored or read as 0 (which once turned `--help` into a five-epoch training run).
#pragma once

#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>

namespace snn2ann_examples {

/// The whole of `text` as a number of type T, or std::invalid_argument naming `flag`.
template <class T>
T number(const std::string& flag, const std::string& text) {
    T value{};
    const char* end = text.data() + text.size();
    const auto [at, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc{} || at != end)
        throw std::invalid_argument(flag + " needs a number, not '" + text + "'");
    return value;
}

/// Reads argv one flag at a time:
///   while (args.next()) {
///       if (args.is("--epochs")) epochs = args.value<int>();
///       else if (args.is("--augment")) augment = true;
///       else args.unknown();
///   }
/// Errors are std::invalid_argument, worded for the user.
class arguments {
public:
    arguments(int argc, char** argv) : argc_(argc), argv_(argv) {}

    /// Moves to the next flag (or positional argument); false after the last.
    bool next() {
        if (++at_ >= argc_) return false;
        flag_ = argv_[at_];
        return true;
    }
    bool is(const char* flag) const { return flag_ == flag; }
    const std::string& flag() const { return flag_; }

    /// The current flag's value (the next argument).
    std::string text() {
        if (at_ + 1 >= argc_) throw std::invalid_argument(flag_ + " needs a value (see --help)");
        return argv_[++at_];
    }
    template <class T>
    T value() {
        const std::string flag = flag_;
        return number<T>(flag, text());
    }
    [[noreturn]] void unknown() const { throw std::invalid_argument("unknown option " + flag_ + " (see --help)"); }

private:
    int argc_;
    char** argv_;
    int at_ = 0;
    std::string flag_;
};

/// Reads the command line with `read(arguments&)`, which handles every flag but --help.
/// Returns -1 when the program is to go on, 0 after printing `usage` for --help (or -h),
/// and 2 after printing "program: what went wrong" for a usage error.
template <class Read>
int read_command_line(int argc, char** argv, const char* program, const char* usage, Read read) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(usage, stdout);
            return 0;
        }
    }
    try {
        arguments args(argc, argv);
        read(args);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "%s: %s\n", program, e.what());
        return 2;
    }
    return -1;
}

}  // namespace snn2ann_examples
