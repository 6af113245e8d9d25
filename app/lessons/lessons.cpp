// Parsing and validating lesson files, with the line of every problem.
#include "lessons.hpp"

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "normviz/error.hpp"
#include "view_spec.hpp"

namespace normviz {

namespace embedded {
extern const EmbeddedLesson lessons[];
}  // namespace embedded

namespace {

// 1-based line of byte offset `at` in `text`.
int lineOf(const std::string& text, size_t at) {
  int line = 1;
  for (size_t i = 0; i < at && i < text.size(); ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

// The line of the token quoted in one of nlohmann's messages ("number overflow parsing '1e400'"),
// or 1 when there is none.
int jsonErrorLine(const std::string& text, const std::string& message) {
  const size_t open = message.find('\''), close = message.rfind('\'');
  if (open == std::string::npos || close <= open + 1) return 1;
  const size_t at = text.find(message.substr(open + 1, close - open - 1));
  return at == std::string::npos ? 1 : lineOf(text, at);
}

// The message of a nlohmann exception without its "[json.exception.out_of_range.406] " tag.
std::string jsonErrorText(const nlohmann::json::exception& e) {
  const std::string what = e.what();
  const size_t tag = what.find("] ");
  return tag == std::string::npos ? what : what.substr(tag + 2);
}

// The line where each element of the top-level "steps" array opens, by a scan that skips strings:
// nlohmann's values keep no positions, and a step's problems should name its line.
std::vector<int> stepLines(const std::string& text) {
  std::vector<int> lines;
  const size_t key = text.find("\"steps\"");
  if (key == std::string::npos) return lines;
  size_t i = text.find('[', key);
  if (i == std::string::npos) return lines;
  int depth = 0;
  bool in_string = false;
  for (++i; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[') {
      if (depth == 0 && c == '{') lines.push_back(lineOf(text, i));
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) break;  // the end of "steps"
      --depth;
    }
  }
  return lines;
}

// The view field a step's "set" key names (JSON spelling: "normalized_shape"), or nullptr. A lesson
// sets the view; which lesson is open and presenter mode are the student's.
const SpecField* setField(const std::string& key) {
  const SpecField* f = findSpecField(key);
  if (f == nullptr || key.find('-') != std::string::npos) return nullptr;
  for (const char* own : {"lesson", "lesson-file", "step", "presenter"})
    if (std::string_view(f->flag) == own) return nullptr;
  return f;
}

// Whether a set value has the JSON type its field takes, and the name of that type.
bool hasType(const nlohmann::json& v, SpecValue type) {
  switch (type) {
    case SpecValue::Text:  // a name, a path, or momentum's number
      return v.is_string() || v.is_number();
    case SpecValue::Integer:
    case SpecValue::Number:
      return v.is_number();
    case SpecValue::Switch:
      return v.is_boolean();
    case SpecValue::List:
      if (v.is_string() || v.is_number()) return true;
      if (!v.is_array()) return false;
      for (const auto& e : v)
        if (!e.is_number_integer()) return false;
      return true;
  }
  return false;
}
const char* typeName(SpecValue type) {
  switch (type) {
    case SpecValue::Text:
      return "a string";
    case SpecValue::Integer:
    case SpecValue::Number:
      return "a number";
    case SpecValue::Switch:
      return "true or false";
    case SpecValue::List:
      return "a string or a list of integers";
  }
  return "?";
}

// A number question's "answer_is" and "for": what its answer counts, of which layer.
void parseAnswerIs(const nlohmann::json& q, LessonQuestion& question) {
  if (q.contains("for") && !q.contains("answer_is"))
    throw NormError("\"for\" goes with \"answer_is\"");
  if (!q.contains("answer_is")) return;
  if (question.kind != LessonQuestion::Kind::Number)
    throw NormError("\"answer_is\" belongs to number questions");
  if (!q["answer_is"].is_string() || (q["answer_is"] != "means" && q["answer_is"] != "group_size"))
    throw NormError("\"answer_is\" is \"means\" or \"group_size\"");
  question.answer_is = q["answer_is"].get<std::string>();
  if (!q.contains("for")) return;
  if (!q["for"].is_object()) throw NormError("\"for\" is an object of layer settings");
  for (auto it = q["for"].begin(); it != q["for"].end(); ++it) {
    const SpecField* field = findSpecField(it.key());
    if (field == nullptr || !field->layer || it.key().find('-') != std::string::npos)
      throw NormError(
          "\"for\" takes layer settings (norm, groups, normalized_shape, axes, shape, "
          "...), not \"" +
          it.key() + "\"");
  }
  (void)specFromJson(q["for"]);  // each value's meaning
  question.answer_for = q["for"];
}

// A step's question; throws NormError saying what is wrong with it.
LessonQuestion parseQuestion(const nlohmann::json& q) {
  if (!q.is_object() || !q.contains("kind") || !q["kind"].is_string() || !q.contains("prompt") ||
      !q["prompt"].is_string())
    throw NormError("a question needs \"kind\" and \"prompt\" strings");
  for (auto it = q.begin(); it != q.end(); ++it)
    if (!std::set<std::string>{"kind", "prompt", "options", "answer", "predict", "answer_is", "for"}
             .count(it.key()))
      throw NormError("unknown question key \"" + it.key() +
                      "\" (kind, prompt, options, answer, predict, answer_is, for)");
  LessonQuestion question;
  question.prompt = q["prompt"].get<std::string>();
  const std::string kind = q["kind"].get<std::string>();
  if (kind == "choice") {
    question.kind = LessonQuestion::Kind::Choice;
    if (!q.contains("options") || !q["options"].is_array() || q["options"].size() < 2 ||
        q["options"].size() > 9)
      throw NormError("a choice question needs 2 to 9 \"options\"");
    for (const auto& o : q["options"]) {
      if (!o.is_string()) throw NormError("options are strings");
      question.options.push_back(o.get<std::string>());
    }
    if (!q.contains("answer") || !q["answer"].is_number_integer() ||
        q["answer"].get<int64_t>() < 0 || q["answer"].get<size_t>() >= question.options.size())
      throw NormError("\"answer\" must be the index of an option (from 0)");
    question.answer = q["answer"].get<int64_t>();
  } else if (kind == "number") {
    question.kind = LessonQuestion::Kind::Number;
    if (!q.contains("answer") || !q["answer"].is_number_integer())
      throw NormError("a number question needs an integer \"answer\"");
    question.answer = q["answer"].get<int64_t>();
  } else if (kind == "select") {
    question.kind = LessonQuestion::Kind::Select;
  } else {
    throw NormError("unknown question kind \"" + kind + "\" (choice, number, select)");
  }
  if (q.contains("predict")) {
    if (!q["predict"].is_boolean()) throw NormError("\"predict\" is true or false");
    question.predict = q["predict"].get<bool>();
  }
  parseAnswerIs(q, question);
  return question;
}

}  // namespace

int Lesson::questions() const {
  int n = 0;
  for (const LessonStep& step : steps) n += step.question ? 1 : 0;
  return n;
}

Lesson parseLesson(const std::string& text, const std::string& file) {
  auto fail = [&](int line, const std::string& problem) -> NormError {
    return NormError(file + ":" + std::to_string(line) + ": " + problem);
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based; the message after "parse error at line L, column C: " says what.
    std::string what = e.what();
    const size_t colon = what.find(": ", what.find("column"));
    throw fail(lineOf(text, e.byte > 0 ? e.byte - 1 : 0),
               "not valid JSON: " + (colon == std::string::npos ? what : what.substr(colon + 2)));
  } catch (const nlohmann::json::exception& e) {
    // A number too large for a double (1e400): nlohmann names the token but not its place.
    throw fail(jsonErrorLine(text, e.what()), std::string("not valid JSON: ") + jsonErrorText(e));
  }
  if (!j.is_object()) throw fail(1, "a lesson is a JSON object with name, title and steps");
  Lesson lesson;
  lesson.file = file;
  for (const char* key : {"name", "title"}) {
    if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty())
      throw fail(1, std::string("\"") + key + "\" must be a non-empty string");
  }
  lesson.name = j["name"].get<std::string>();
  lesson.title = j["title"].get<std::string>();
  for (char c : lesson.name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      throw fail(
          1, "\"name\" may hold letters, digits, - and _ only (it is typed on the command line)");
  if (!j.contains("steps") || !j["steps"].is_array() || j["steps"].empty())
    throw fail(1, "\"steps\" must be a non-empty array");
  const std::vector<int> lines = stepLines(text);
  for (size_t k = 0; k < j["steps"].size(); ++k) {
    const int line = k < lines.size() ? lines[k] : 1;
    const auto& s = j["steps"][k];
    const std::string where = "step " + std::to_string(k + 1) + ": ";
    if (!s.is_object()) throw fail(line, where + "a step is an object with text and set");
    LessonStep step;
    step.line = line;
    for (auto it = s.begin(); it != s.end(); ++it)
      if (it.key() != "text" && it.key() != "set" && it.key() != "question" &&
          it.key() != "expect_lit")
        throw fail(line,
                   where + "unknown key \"" + it.key() + "\" (text, set, question, expect_lit)");
    if (!s.contains("text") || !s["text"].is_string())
      throw fail(line, where + "\"text\" must be a string");
    step.text = s["text"].get<std::string>();
    if (s.contains("set")) {
      if (!s["set"].is_object()) throw fail(line, where + "\"set\" must be an object");
      for (auto it = s["set"].begin(); it != s["set"].end(); ++it) {
        const SpecField* field = setField(it.key());
        if (field == nullptr)
          throw fail(line,
                     where + "unknown setting \"" + it.key() + "\"; known: " + kLessonSetKeys);
        if (!hasType(it.value(), field->value))
          throw fail(line, where + "\"" + it.key() + "\" has the wrong type (" +
                               typeName(field->value) + ")");
      }
      // Each value's meaning: integers in range, names spelled right, lists that parse. Values
      // that depend on each other (groups dividing C, a hover inside the shape) are checked when
      // the step is applied.
      try {
        (void)specFromJson(s["set"]);
      } catch (const NormError& e) {
        throw fail(line, where + e.what());
      }
      step.set = s["set"];
    }
    if (s.contains("expect_lit")) {
      if (!s["expect_lit"].is_number_integer() || s["expect_lit"].get<int64_t>() < 0)
        throw fail(line, where + "\"expect_lit\" must be a count of cubes");
      step.expect_lit = s["expect_lit"].get<int64_t>();
    }
    if (s.contains("question")) {
      try {
        step.question = parseQuestion(s["question"]);
      } catch (const NormError& e) {
        throw fail(line, where + e.what());
      }
    }
    lesson.steps.push_back(std::move(step));
  }
  return lesson;
}

Lesson loadLessonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw NormError(path + ": cannot read the lesson file");
  std::stringstream text;
  text << in.rdbuf();
  return parseLesson(text.str(), path);
}

const std::vector<Lesson>& builtinLessons() {
  static const std::vector<Lesson> lessons = [] {
    std::vector<Lesson> out;
    for (const embedded::EmbeddedLesson* e = embedded::lessons; e->file != nullptr; ++e)
      out.push_back(parseLesson(e->text, std::string("assets/lessons/") + e->file));
    return out;
  }();
  return lessons;
}

nlohmann::json settingsAt(const Lesson& lesson, int step) {
  nlohmann::json merged = nlohmann::json::object();
  for (int k = 0; k <= step && k < static_cast<int>(lesson.steps.size()); ++k)
    merged.update(lesson.steps[static_cast<size_t>(k)].set);
  return merged;
}

}  // namespace normviz
