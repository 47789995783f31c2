// The command lines of the example and benchmark programs, read by CLI11 (Debian's
// libcli11-dev, header-only): --help lists every option with its default, --config FILE
// reads the same options from a TOML or INI file, and a mistyped option, an option
// without its value, a value that is not a number or not one of the choices stops the
// program with a message that names it (exit code 2), before any data is read.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>

#include <snn2ann/core/cpu_matmul.hpp>

namespace snn2ann_examples {

/// A program's command line:
///   snn2ann_examples::command_line cli{"train_throughput", "What the program does."};
///   cli.app().add_option("--epochs", epochs, "epochs to train")->capture_default_str();
///   if (const int rc = cli.parse(argc, argv); rc >= 0) return rc;
class command_line {
public:
    command_line(std::string program, const std::string& description)
        : program_(std::move(program)), app_(description, program_) {
        app_.set_config("--config", "", "read the options from FILE (TOML or INI: one 'name = value' per line)")
            ->type_name("FILE");
        app_.failure_message([program = program_](const CLI::App*, const CLI::Error& e) {
            return program + ": " + e.what() + " (see --help)\n";
        });
    }

    /// The CLI11 application, to add options to.
    CLI::App& app() { return app_; }

    /// Where the options the training programs share go (null: the program has none).
    struct training_flags {
        int* epochs = nullptr;              ///< --epochs
        std::size_t* batch = nullptr;       ///< --batch
        int* threads = nullptr;             ///< --threads (0: all cores)
        std::size_t* train_limit = nullptr; ///< --train-limit (0: all)
        std::string* fashion_mnist = nullptr;  ///< --data, Fashion-MNIST's folder
    };
    /// Adds those of `f` that are given, with the same names, help and shown defaults in
    /// every program: cli.add_training_flags({.epochs = &epochs, .batch = &batch}).
    void add_training_flags(const training_flags& f) {
        if (f.epochs) app_.add_option("--epochs", *f.epochs, "epochs to train")->capture_default_str();
        if (f.batch) app_.add_option("--batch", *f.batch, "samples per step")->capture_default_str();
        if (f.threads) app_.add_option("--threads", *f.threads, "worker threads (0: all cores)")->capture_default_str();
        if (f.train_limit) app_.add_option("--train-limit", *f.train_limit, "train on the first N images (0: all)");
        if (f.fashion_mnist)
            app_.add_option("--data", *f.fashion_mnist, "Fashion-MNIST's folder (default: the Debian package's)")
                ->type_name("DIR");
    }

    /// Reads argv: -1 when the program is to go on, 0 after printing the help for
    /// --help (or -h), 2 after printing "program: what went wrong" for a usage error.
    int parse(int argc, char** argv) {
        try {
            app_.parse(argc, argv);
        } catch (const CLI::ParseError& e) {
            const int rc = app_.exit(e);
            return rc == 0 ? 0 : 2;
        }
        return -1;
    }

private:
    std::string program_;
    CLI::App app_;
};

/// Adds --matmul NAME, the CPU convolutions' product (snn2ann::cpu_matmul): fp32 (the
/// default), amx (amx_split_bf16) or amx-exact (amx_exact_products); read it with
/// cpu_matmul_named.
inline void add_matmul_option(CLI::App& app, std::string& matmul) {
    app.add_option("--matmul", matmul, "the convolutions' matrix product (snn2ann::cpu_matmul): fp32, "
                                       "amx (split bf16, within 2^-17) or amx-exact (exact products on spikes)")
        ->check(CLI::IsMember({"fp32", "amx", "amx-exact"}))
        ->capture_default_str();
}

/// The snn2ann::cpu_matmul that --matmul names (add_matmul_option's choices).
inline snn2ann::cpu_matmul cpu_matmul_named(const std::string& name) {
    if (name == "amx") return snn2ann::cpu_matmul::amx_split_bf16;
    if (name == "amx-exact") return snn2ann::cpu_matmul::amx_exact_products;
    return snn2ann::cpu_matmul::fp32;
}

}  // namespace snn2ann_examples
