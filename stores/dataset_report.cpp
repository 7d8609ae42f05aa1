#include "stores/dataset_report.h"

#include <QCoreApplication>
#include <QJsonArray>

namespace studio {
namespace {

constexpr int kKnownSchema = 1;  // core/engine/data_commands.cpp kCheckDataSchema

QVector<qint64> counts(const QJsonValue& value) {
  QVector<qint64> result;
  for (const QJsonValue& v : value.toArray())
    result << v.toInteger();
  return result;
}

DatasetImage parseImage(const QJsonObject& o) {
  DatasetImage image{o.value(QLatin1String("image")).toString(),
                     o.value(QLatin1String("label")).toString(),
                     o.value(QLatin1String("width")).toInt(),
                     o.value(QLatin1String("height")).toInt(),
                     {}};
  for (const QJsonValue& row : o.value(QLatin1String("boxes")).toArray()) {
    const QJsonArray box = row.toArray();
    if (box.size() != 5) continue;  // the engine always writes five; anything else is skipped
    image.boxes.push_back({box.at(0).toInt(), static_cast<float>(box.at(1).toDouble()),
                           static_cast<float>(box.at(2).toDouble()),
                           static_cast<float>(box.at(3).toDouble()),
                           static_cast<float>(box.at(4).toDouble())});
  }
  return image;
}

DatasetSplit parseSplit(const QJsonObject& o) {
  DatasetSplit split;
  split.split = o.value(QLatin1String("split")).toString();
  split.listed = o.value(QLatin1String("listed")).toInteger();
  split.verified = o.value(QLatin1String("verified")).toInteger();
  split.images = o.value(QLatin1String("images")).toInteger();
  split.backgrounds = o.value(QLatin1String("backgrounds")).toInteger();
  split.instances = o.value(QLatin1String("instances")).toInteger();
  split.skipped = o.value(QLatin1String("skipped")).toInteger();
  split.duplicatesRemoved = o.value(QLatin1String("duplicates_removed")).toInteger();
  split.classImages = counts(o.value(QLatin1String("class_images")));
  split.classInstances = counts(o.value(QLatin1String("class_instances")));
  split.cacheNote = o.value(QLatin1String("cache_note")).toString();
  for (const QJsonValue& v : o.value(QLatin1String("problems")).toArray()) {
    const QJsonObject p = v.toObject();
    split.problems.push_back(
        {split.split, p.value(QLatin1String("file")).toString(),
         p.value(QLatin1String("image")).toString(), p.value(QLatin1String("label")).toString(),
         p.value(QLatin1String("line")).toInt(), p.value(QLatin1String("skipped")).toBool(true),
         p.value(QLatin1String("reason")).toString()});
  }
  const QJsonArray samples = o.value(QLatin1String("samples")).toArray();
  split.samples.reserve(samples.size());
  for (const QJsonValue& v : samples)
    split.samples.push_back(parseImage(v.toObject()));
  return split;
}

}  // namespace

int DatasetReport::problemCount() const {
  int total = 0;
  for (const DatasetSplit& split : splits)
    total += static_cast<int>(split.problems.size());
  return total;
}

std::optional<DatasetReport> parseDatasetReport(const QJsonObject& object, QString* error) {
  const int schema = object.value(QLatin1String("schema")).toInt(0);
  if (schema != kKnownSchema || !object.value(QLatin1String("splits")).isArray()) {
    if (error)
      *error = QCoreApplication::translate("DatasetReport",
                                           "The engine's dataset report has schema %1; this "
                                           "studio reads schema %2. Are the two from one release?")
                   .arg(schema)
                   .arg(kKnownSchema);
    return std::nullopt;
  }
  DatasetReport report;
  report.dataFile = object.value(QLatin1String("data")).toString();
  report.root = object.value(QLatin1String("root")).toString();
  for (const QJsonValue& v : object.value(QLatin1String("names")).toArray())
    report.names << v.toString();
  report.sample = object.value(QLatin1String("sample")).toInteger();
  report.usable = object.value(QLatin1String("usable")).toBool();
  report.error = object.value(QLatin1String("error")).toString();
  for (const QJsonValue& v : object.value(QLatin1String("splits")).toArray())
    report.splits.push_back(parseSplit(v.toObject()));
  return report;
}

}  // namespace studio
