#include "widgets/dataset/new_dataset_dialog.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include "common/data_yaml_writer.h"
#include "stores/qt_text.h"

namespace studio {
namespace {

std::filesystem::path fsPath(const QString& text) {
  return std::filesystem::path(text.trimmed().toStdString());
}

}  // namespace

NewDatasetDialog::NewDatasetDialog(const QString& startFolder, QWidget* parent)
    : QDialog(parent), startFolder_(startFolder) {
  setObjectName(QStringLiteral("newDatasetDialog"));
  setWindowTitle(tr("New data.yaml"));
  auto* column = new QVBoxLayout(this);
  auto* intro = new QLabel(
      tr("Choose the folders of train and val images and name the classes. Labels are YOLO "
         "text files: for <i>.../images/train/a.jpg</i> the studio reads "
         "<i>.../labels/train/a.txt</i>, elsewhere <i>a.txt</i> beside the image. An image "
         "without a label file is a background."),
      this);
  intro->setWordWrap(true);
  column->addWidget(intro);

  auto* form = new QFormLayout;
  form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  column->addLayout(form);
  const auto addFolder = [&](const QString& label, const QString& tip, bool optional) {
    QLineEdit* edit = folderRow(label, tip, optional);
    form->addRow(label, edit->parentWidget());
    return edit;
  };
  train_ =
      addFolder(tr("&Train images:"), tr("Folder of training images, searched recursively"), false);
  val_ = addFolder(tr("&Val images:"),
                   tr("Folder of validation images; the train folder again is allowed"), false);
  test_ = addFolder(tr("T&est images:"), tr("Optional folder of test images"), true);

  names_ = new QPlainTextEdit(this);
  names_->setObjectName(QStringLiteral("classNames"));
  names_->setPlaceholderText(tr("One class name per line, in class-id order:\nscratch\ndent"));
  names_->setTabChangesFocus(true);
  names_->setToolTip(tr("Line 1 is class 0, line 2 class 1, ... as in the label files"));
  form->addRow(tr("&Classes:"), names_);
  qobject_cast<QLabel*>(form->labelForField(names_))->setBuddy(names_);

  output_ = new QLineEdit(this);
  output_->setObjectName(QStringLiteral("outputFile"));
  output_->setToolTip(tr("Where to write the data.yaml"));
  auto* outputRow = new QWidget(this);
  auto* outputLayout = new QHBoxLayout(outputRow);
  outputLayout->setContentsMargins(0, 0, 0, 0);
  outputLayout->addWidget(output_, 1);
  auto* browse = new QPushButton(tr("Browse..."), outputRow);
  outputLayout->addWidget(browse);
  form->addRow(tr("&Save as:"), outputRow);
  qobject_cast<QLabel*>(form->labelForField(outputRow))->setBuddy(output_);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString file = QFileDialog::getSaveFileName(
        this, tr("Save data.yaml"),
        output_->text().isEmpty() ? startFolder_ + QLatin1String("/data.yaml") : output_->text(),
        tr("YAML files (*.yaml *.yml)"));
    if (!file.isEmpty()) {
      outputEdited_ = true;
      output_->setText(QDir::toNativeSeparators(file));
    }
  });
  connect(output_, &QLineEdit::textEdited, this, [this] { outputEdited_ = true; });

  problems_ = new QLabel(this);
  problems_->setObjectName(QStringLiteral("formProblems"));
  problems_->setWordWrap(true);
  problems_->setForegroundRole(QPalette::PlaceholderText);
  column->addWidget(problems_);

  buttons_ = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  create_ = buttons_->addButton(tr("Create"), QDialogButtonBox::AcceptRole);
  create_->setObjectName(QStringLiteral("createButton"));
  create_->setDefault(true);
  connect(buttons_, &QDialogButtonBox::accepted, this, &NewDatasetDialog::accept);
  connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);
  column->addWidget(buttons_);

  for (QLineEdit* edit : {train_, val_, test_, output_})
    connect(edit, &QLineEdit::textChanged, this, &NewDatasetDialog::update);
  connect(names_, &QPlainTextEdit::textChanged, this, &NewDatasetDialog::update);
  resize(620, 480);
  update();
}

QLineEdit* NewDatasetDialog::folderRow(const QString& label, const QString& tip, bool optional) {
  auto* row = new QWidget(this);
  auto* layout = new QHBoxLayout(row);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* edit = new QLineEdit(row);
  edit->setToolTip(tip);
  if (optional) edit->setPlaceholderText(tr("(none)"));
  auto* browse = new QPushButton(tr("Browse..."), row);
  browse->setToolTip(tip);
  layout->addWidget(edit, 1);
  layout->addWidget(browse);
  connect(browse, &QPushButton::clicked, this, [this, edit, label] {
    const QString start = edit->text().isEmpty() ? startFolder_ : edit->text();
    const QString folder = QFileDialog::getExistingDirectory(
        this, QString(label).remove(QLatin1Char('&')).remove(QLatin1Char(':')), start);
    if (!folder.isEmpty()) edit->setText(QDir::toNativeSeparators(folder));
  });
  return edit;
}

void NewDatasetDialog::setFolders(const QString& train, const QString& val) {
  train_->setText(train);
  val_->setText(val);
}

void NewDatasetDialog::setNames(const QStringList& names) {
  names_->setPlainText(names.join(QLatin1Char('\n')));
}

void NewDatasetDialog::setOutput(const QString& yamlFile) {
  outputEdited_ = true;
  output_->setText(yamlFile);
}

QStringList NewDatasetDialog::names() const {
  QStringList names;
  for (const QString& line : names_->toPlainText().split(QLatin1Char('\n')))
    names << line.trimmed();
  while (!names.isEmpty() && names.back().isEmpty())
    names.removeLast();  // a final newline
  return names;
}

QStringList NewDatasetDialog::problems() const {
  syncbn::NewDataset dataset{
      fsPath(train_->text()), fsPath(val_->text()), fsPath(test_->text()), {}};
  for (const QString& name : names())
    dataset.names.push_back(toStdString(name));
  QStringList problems;
  for (const std::string& problem : syncbn::checkNewDataset(dataset))
    problems << toQString(problem);
  if (output_->text().trimmed().isEmpty()) problems << tr("choose where to save the data.yaml");
  return problems;
}

void NewDatasetDialog::update() {
  // The file goes beside the images' common parent until the user picks a place.
  if (!outputEdited_ && !train_->text().trimmed().isEmpty()) {
    // Beside the image folders: their common folder, or the one above it when that is an
    // Ultralytics "images" folder (then the data.yaml sits beside images/ and labels/).
    const QString train = QDir::cleanPath(QFileInfo(train_->text().trimmed()).absoluteFilePath());
    const QString val = val_->text().trimmed().isEmpty()
                            ? train
                            : QDir::cleanPath(QFileInfo(val_->text().trimmed()).absoluteFilePath());
    QString parent = QFileInfo(train).absolutePath();
    while (!parent.isEmpty() && parent != QLatin1String("/") &&
           !(val + QLatin1Char('/')).startsWith(parent + QLatin1Char('/')))
      parent = QFileInfo(parent).absolutePath();
    if (QFileInfo(parent).fileName() == QLatin1String("images"))
      parent = QFileInfo(parent).absolutePath();
    output_->blockSignals(true);
    output_->setText(QDir::toNativeSeparators(parent + QLatin1String("/data.yaml")));
    output_->blockSignals(false);
  }
  const QStringList all = problems();
  problems_->setText(all.isEmpty() ? tr("Ready: %n class(es).", nullptr, names().size())
                                   : tr("To do: %1.").arg(all.join(QLatin1String("; "))));
  create_->setEnabled(all.isEmpty());
}

void NewDatasetDialog::accept() {
  if (!problems().isEmpty()) return;
  syncbn::NewDataset dataset{
      fsPath(train_->text()), fsPath(val_->text()), fsPath(test_->text()), {}};
  for (const QString& name : names())
    dataset.names.push_back(toStdString(name));
  const QString file = QFileInfo(output_->text().trimmed()).absoluteFilePath();
  if (QFileInfo::exists(file) &&
      QMessageBox::question(this, tr("Replace data.yaml?"),
                            tr("%1 exists. Replace it?").arg(QDir::toNativeSeparators(file))) !=
          QMessageBox::Yes)
    return;
  try {
    syncbn::writeDataYaml(dataset, fsPath(file));
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Cannot Write data.yaml"), toQString(e.what()));
    return;
  }
  written_ = file;
  QDialog::accept();
}

}  // namespace studio
