namespace Disagg.Toolstack.Config;

public enum XlValueKind
{
    String,
    Number,
    List,
}
