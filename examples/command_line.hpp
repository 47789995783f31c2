// The command lines of the example and benchmark programs, read by CLI11 (Debian's
// libcli11-dev, header-only): --help lists every option with its default, --config FILE
// reads the same options from a TOML or INI file, and a mistyped option, an option
// without its value, a value that is not a number or not one of the choices stops the
// program with a message that names it (exit code 2), before any data is read.
#pragma once

#include <cstdio>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>

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

}  // namespace snn2ann_examples
