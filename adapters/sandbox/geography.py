"""Shanghai's districts with some of their streets and towns (街道、镇), for synthetic data."""

from __future__ import annotations

from adapters.vocabulary import District

STREETS: dict[District, tuple[str, ...]] = {
    District.HUANGPU: ("南京东路街道", "外滩街道", "半淞园路街道", "小东门街道", "豫园街道",
                       "老西门街道", "五里桥街道", "打浦桥街道", "淮海中路街道", "瑞金二路街道"),
    District.XUHUI: ("天平路街道", "湖南路街道", "斜土路街道", "枫林路街道", "长桥街道",
                     "田林街道", "虹梅路街道", "康健新村街道", "徐家汇街道", "凌云路街道",
                     "龙华街道", "漕河泾街道", "华泾镇"),
    District.CHANGNING: ("华阳路街道", "江苏路街道", "新华路街道", "周家桥街道", "天山路街道",
                         "仙霞新村街道", "虹桥街道", "程家桥街道", "北新泾街道", "新泾镇"),
    District.JINGAN: ("江宁路街道", "石门二路街道", "南京西路街道", "静安寺街道", "曹家渡街道",
                      "天目西路街道", "北站街道", "宝山路街道", "芷江西路街道", "共和新路街道",
                      "大宁路街道", "彭浦新村街道", "临汾路街道", "彭浦镇"),
    District.PUTUO: ("曹杨新村街道", "长风新村街道", "长寿路街道", "甘泉路街道", "石泉路街道",
                     "宜川路街道", "万里街道", "真如镇街道", "长征镇", "桃浦镇"),
    District.HONGKOU: ("欧阳路街道", "曲阳路街道", "广中路街道", "嘉兴路街道", "凉城新村街道",
                       "四川北路街道", "北外滩街道", "江湾镇街道"),
    District.YANGPU: ("定海路街道", "平凉路街道", "江浦路街道", "四平路街道", "控江路街道",
                      "长白新村街道", "延吉新村街道", "殷行街道", "大桥街道", "五角场街道",
                      "新江湾城街道", "长海路街道"),
    District.MINHANG: ("江川路街道", "古美街道", "新虹街道", "浦锦街道", "莘庄镇", "七宝镇",
                       "颛桥镇", "华漕镇", "虹桥镇", "梅陇镇", "吴泾镇", "马桥镇", "浦江镇"),
    District.BAOSHAN: ("友谊路街道", "吴淞街道", "张庙街道", "罗店镇", "大场镇", "杨行镇",
                       "月浦镇", "罗泾镇", "顾村镇", "高境镇", "庙行镇", "淞南镇"),
    District.JIADING: ("新成路街道", "真新街道", "嘉定镇街道", "南翔镇", "安亭镇", "马陆镇",
                       "徐行镇", "华亭镇", "外冈镇", "江桥镇"),
    District.PUDONG: ("潍坊新村街道", "陆家嘴街道", "周家渡街道", "塘桥街道", "上钢新村街道",
                      "南码头路街道", "沪东新村街道", "金杨新村街道", "洋泾街道", "浦兴路街道",
                      "东明路街道", "花木街道", "川沙新镇", "高桥镇", "北蔡镇", "唐镇",
                      "曹路镇", "金桥镇", "张江镇", "三林镇", "惠南镇", "周浦镇", "康桥镇",
                      "祝桥镇", "泥城镇", "书院镇", "老港镇"),
    District.JINSHAN: ("石化街道", "朱泾镇", "枫泾镇", "张堰镇", "亭林镇", "吕巷镇", "廊下镇",
                       "金山卫镇", "漕泾镇", "山阳镇"),
    District.SONGJIANG: ("岳阳街道", "永丰街道", "方松街道", "中山街道", "广富林街道",
                         "九里亭街道", "泗泾镇", "佘山镇", "车墩镇", "新桥镇", "洞泾镇",
                         "九亭镇", "泖港镇", "石湖荡镇", "叶榭镇", "小昆山镇"),
    District.QINGPU: ("夏阳街道", "盈浦街道", "香花桥街道", "朱家角镇", "练塘镇", "金泽镇",
                      "赵巷镇", "徐泾镇", "华新镇", "重固镇", "白鹤镇"),
    District.FENGXIAN: ("西渡街道", "奉浦街道", "金海街道", "南桥镇", "奉城镇", "庄行镇",
                        "金汇镇", "四团镇", "青村镇", "柘林镇", "海湾镇"),
    District.CHONGMING: ("城桥镇", "堡镇", "新河镇", "庙镇", "竖新镇", "向化镇", "三星镇",
                         "港沿镇", "中兴镇", "陈家镇", "绿华镇", "港西镇", "建设镇", "新海镇",
                         "东平镇", "长兴镇", "新村乡", "横沙乡"),
}  # fmt: skip

# Relative weight of each district in the assisted population: the large and the
# outer districts hold more assisted households than the small central ones.
DISTRICT_WEIGHTS: dict[District, int] = {
    District.HUANGPU: 5, District.XUHUI: 6, District.CHANGNING: 4, District.JINGAN: 7,
    District.PUTUO: 7, District.HONGKOU: 6, District.YANGPU: 9, District.MINHANG: 8,
    District.BAOSHAN: 8, District.JIADING: 4, District.PUDONG: 18, District.JINSHAN: 3,
    District.SONGJIANG: 4, District.QINGPU: 3, District.FENGXIAN: 4, District.CHONGMING: 4,
}  # fmt: skip

# Outer districts where a rural hukou is common.
RURAL_SHARE: dict[District, float] = {
    District.JINSHAN: 0.45, District.FENGXIAN: 0.4, District.CHONGMING: 0.6,
    District.QINGPU: 0.35, District.SONGJIANG: 0.25, District.JIADING: 0.2,
    District.BAOSHAN: 0.1, District.MINHANG: 0.1, District.PUDONG: 0.15,
}  # fmt: skip

ROADS = (
    "长寿路", "武宁路", "中山北路", "共和新路", "延长路", "曲阳路", "控江路", "浦东南路",
    "张杨路", "沪闵路", "漕宝路", "宜山路", "南丹路", "肇嘉浜路", "天山路", "仙霞路",
    "长阳路", "周家嘴路", "沪太路", "场中路", "城中路", "人民路", "解放路", "新华路",
)  # fmt: skip

# Region codes of people born elsewhere (Jiangsu, Zhejiang, Anhui, Henan, Sichuan...).
MIGRANT_REGION_CODES = ("320102", "320505", "330106", "330205", "340104", "341102",
                        "410102", "510104", "360102", "420102")  # fmt: skip
# Codes of Shanghai districts merged away, still on older people's ID numbers.
FORMER_SHANGHAI_CODES = ("310103", "310108", "310225", "310230")
