#include "text_file.h"
#include "fd.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

namespace corescope {

std::optional<std::string> read_text_file(const std::string& path) {
    FileDescriptor fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return std::nullopt;
    std::string text;
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        text.append(chunk, static_cast<size_t>(n));
    }
    return text;
}

std::optional<std::string> read_first_line(const std::string& path) {
    std::optional<std::string> text = read_text_file(path);
    if (text) text->erase(std::min(text->find('\n'), text->size()));
    return text;
}

std::string process_comm(uint32_t pid) {
    return read_first_line("/proc/" + std::to_string(pid) + "/comm").value_or("");
}

std::map<std::string, uint64_t> read_name_values(const std::string& path) {
    std::map<std::string, uint64_t> values;
    std::string text = read_text_file(path).value_or("");
    for (std::string_view line : split_lines(text)) {
        std::vector<std::string_view> words = split_words(line);
        if (words.size() < 2) continue;
        std::string_view name = words[0];
        if (name.back() == ':') name.remove_suffix(1);
        values[std::string(name)] = std::strtoull(std::string(words[1]).c_str(), nullptr, 10);
    }
    return values;
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        size_t end = text.find('\n');
        lines.push_back(text.substr(0, end));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

std::vector<std::string_view> split_words(std::string_view line) {
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            i++;
        size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t')
            i++;
        if (i > start) words.push_back(line.substr(start, i - start));
    }
    return words;
}

std::string load_average(const std::string& path) {
    std::string text = read_text_file(path).value_or("");
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    return text;
}

std::vector<std::string> subdirectories(const std::string& dir) {
    std::vector<std::string> names;
    DIR* d = opendir(dir.c_str());
    if (!d) return names;
    while (struct dirent* e = readdir(d))
        if (e->d_name[0] != '.' && e->d_type == DT_DIR) names.push_back(e->d_name);
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace corescope
