"""Static tables the demo generator draws from: names, places, products, wording (zh_CN).

Own tables rather than Faker calls: Faker's zh_CN provider costs 20-30 µs per name
or address and pairs provinces with cities at random; these tables are drawn from
in well under a microsecond and keep province, city, district code and city tier
consistent (the region tier tag and the ID number area code depend on it).
"""

from __future__ import annotations

from dataclasses import dataclass

# (surname, relative frequency, pinyin) — the most common Han surnames.
SURNAMES: tuple[tuple[str, float, str], ...] = (
    ("王", 7.2, "wang"), ("李", 7.0, "li"), ("张", 6.7, "zhang"), ("刘", 5.1, "liu"), ("陈", 4.6, "chen"),
    ("杨", 3.1, "yang"), ("黄", 2.2, "huang"), ("赵", 2.0, "zhao"), ("吴", 2.0, "wu"), ("周", 1.9, "zhou"),
    ("徐", 1.5, "xu"), ("孙", 1.5, "sun"), ("马", 1.5, "ma"), ("朱", 1.3, "zhu"), ("胡", 1.3, "hu"),
    ("郭", 1.2, "guo"), ("何", 1.2, "he"), ("高", 1.1, "gao"), ("林", 1.1, "lin"), ("罗", 1.0, "luo"),
    ("郑", 1.0, "zheng"), ("梁", 0.9, "liang"), ("谢", 0.8, "xie"), ("宋", 0.8, "song"), ("唐", 0.8, "tang"),
    ("许", 0.7, "xu"), ("韩", 0.7, "han"), ("冯", 0.7, "feng"), ("邓", 0.7, "deng"), ("曹", 0.7, "cao"),
    ("彭", 0.6, "peng"), ("曾", 0.6, "zeng"), ("肖", 0.6, "xiao"), ("田", 0.6, "tian"), ("董", 0.5, "dong"),
    ("袁", 0.5, "yuan"), ("潘", 0.5, "pan"), ("于", 0.5, "yu"), ("蒋", 0.5, "jiang"), ("蔡", 0.5, "cai"),
    ("余", 0.5, "yu"), ("杜", 0.5, "du"), ("叶", 0.5, "ye"), ("程", 0.5, "cheng"), ("苏", 0.4, "su"),
    ("魏", 0.4, "wei"), ("吕", 0.4, "lv"), ("丁", 0.4, "ding"), ("任", 0.4, "ren"), ("沈", 0.4, "shen"),
    ("姚", 0.4, "yao"), ("卢", 0.4, "lu"), ("姜", 0.3, "jiang"), ("崔", 0.3, "cui"), ("钟", 0.3, "zhong"),
    ("谭", 0.3, "tan"), ("陆", 0.3, "lu"), ("汪", 0.3, "wang"), ("范", 0.3, "fan"), ("金", 0.3, "jin"),
    ("石", 0.3, "shi"), ("廖", 0.3, "liao"), ("贾", 0.3, "jia"), ("夏", 0.3, "xia"), ("韦", 0.3, "wei"),
    ("付", 0.3, "fu"), ("方", 0.3, "fang"), ("白", 0.2, "bai"), ("邹", 0.2, "zou"), ("孟", 0.2, "meng"),
    ("熊", 0.2, "xiong"), ("秦", 0.2, "qin"), ("邱", 0.2, "qiu"), ("江", 0.2, "jiang"), ("尹", 0.2, "yin"),
    ("欧阳", 0.05, "ouyang"), ("司马", 0.02, "sima"), ("诸葛", 0.01, "zhuge"),
)  # fmt: skip

# (character, pinyin) used for given names.
MALE_CHARS: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"), ("杰", "jie"), ("涛", "tao"),
    ("斌", "bin"), ("超", "chao"), ("明", "ming"), ("刚", "gang"), ("平", "ping"), ("辉", "hui"), ("鹏", "peng"),
    ("华", "hua"), ("飞", "fei"), ("鑫", "xin"), ("波", "bo"), ("宇", "yu"), ("浩", "hao"), ("凯", "kai"),
    ("健", "jian"), ("俊", "jun"), ("帆", "fan"), ("帅", "shuai"), ("旭", "xu"), ("宁", "ning"), ("龙", "long"),
    ("林", "lin"), ("阳", "yang"), ("建", "jian"), ("国", "guo"), ("志", "zhi"), ("文", "wen"), ("博", "bo"),
    ("晨", "chen"), ("子", "zi"), ("轩", "xuan"), ("嘉", "jia"), ("毅", "yi"), ("峰", "feng"), ("海", "hai"),
    ("东", "dong"), ("立", "li"), ("成", "cheng"), ("晓", "xiao"), ("振", "zhen"), ("家", "jia"), ("天", "tian"),
)  # fmt: skip
FEMALE_CHARS: tuple[tuple[str, str], ...] = (
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"), ("娟", "juan"),
    ("霞", "xia"), ("燕", "yan"), ("玲", "ling"), ("婷", "ting"), ("雪", "xue"), ("琳", "lin"), ("颖", "ying"),
    ("倩", "qian"), ("洁", "jie"), ("佳", "jia"), ("慧", "hui"), ("欣", "xin"), ("悦", "yue"), ("晶", "jing"),
    ("萍", "ping"), ("红", "hong"), ("梅", "mei"), ("莉", "li"), ("雨", "yu"), ("涵", "han"), ("思", "si"),
    ("怡", "yi"), ("可", "ke"), ("诗", "shi"), ("梦", "meng"), ("晓", "xiao"), ("文", "wen"), ("雅", "ya"),
    ("秀", "xiu"), ("丹", "dan"), ("蕾", "lei"), ("璐", "lu"), ("瑶", "yao"), ("岚", "lan"), ("晴", "qing"),
)  # fmt: skip


@dataclass(frozen=True)
class Place:
    """A district or county: where a customer lives or a company is registered."""

    province: str
    city: str
    district: str
    code: str  # 6-digit administrative division code (ID number area code, credit code region)
    tier: str  # tier1 | tier2 | tier3 | rural
    south: bool  # served by 华南销售部

    @property
    def region(self) -> str:
        """The value stored in `customers.region`: province + city (+ county for rural places)."""
        city = "" if self.city == self.province else self.city
        county = self.district if self.tier == "rural" else ""
        return f"{self.province}{city}{county}"


def _places() -> tuple[Place, ...]:
    # fmt: off
    table = {
        # tier, south, province, city, [(district, code), …]
        ("tier1", False, "北京市", "北京市"): [("东城区", "110101"), ("朝阳区", "110105"), ("海淀区", "110108")],
        ("tier1", False, "上海市", "上海市"): [("黄浦区", "310101"), ("徐汇区", "310104"), ("浦东新区", "310115")],
        ("tier1", True, "广东省", "广州市"): [("荔湾区", "440103"), ("天河区", "440106"), ("白云区", "440111")],
        ("tier1", True, "广东省", "深圳市"): [("罗湖区", "440303"), ("福田区", "440304"), ("南山区", "440305")],
        ("tier2", False, "浙江省", "杭州市"): [("西湖区", "330106"), ("滨江区", "330108")],
        ("tier2", False, "江苏省", "南京市"): [("玄武区", "320102"), ("鼓楼区", "320106")],
        ("tier2", False, "江苏省", "苏州市"): [("虎丘区", "320505"), ("吴中区", "320506")],
        ("tier2", False, "江苏省", "无锡市"): [("梁溪区", "320213"), ("新吴区", "320214")],
        ("tier2", False, "浙江省", "宁波市"): [("海曙区", "330203"), ("鄞州区", "330212")],
        ("tier2", False, "安徽省", "合肥市"): [("庐阳区", "340103"), ("蜀山区", "340104")],
        ("tier2", False, "山东省", "青岛市"): [("市南区", "370202"), ("崂山区", "370212")],
        ("tier2", False, "山东省", "济南市"): [("历下区", "370102"), ("市中区", "370103")],
        ("tier2", False, "四川省", "成都市"): [("锦江区", "510104"), ("武侯区", "510107")],
        ("tier2", False, "湖北省", "武汉市"): [("江岸区", "420102"), ("武昌区", "420106")],
        ("tier2", False, "陕西省", "西安市"): [("新城区", "610102"), ("雁塔区", "610113")],
        ("tier2", False, "重庆市", "重庆市"): [("渝中区", "500103"), ("渝北区", "500112")],
        ("tier2", False, "天津市", "天津市"): [("和平区", "120101"), ("南开区", "120104")],
        ("tier2", False, "湖南省", "长沙市"): [("芙蓉区", "430102"), ("岳麓区", "430104")],
        ("tier2", False, "河南省", "郑州市"): [("中原区", "410102"), ("金水区", "410105")],
        ("tier2", True, "福建省", "厦门市"): [("思明区", "350203"), ("湖里区", "350206")],
        ("tier2", True, "福建省", "福州市"): [("鼓楼区", "350102"), ("仓山区", "350104")],
        ("tier2", True, "广东省", "东莞市"): [("南城街道", "441900")],
        ("tier2", True, "广东省", "佛山市"): [("禅城区", "440604"), ("顺德区", "440606")],
        ("tier3", False, "山东省", "潍坊市"): [("潍城区", "370702")],
        ("tier3", False, "浙江省", "绍兴市"): [("越城区", "330602")],
        ("tier3", False, "浙江省", "嘉兴市"): [("南湖区", "330402")],
        ("tier3", False, "浙江省", "温州市"): [("鹿城区", "330302")],
        ("tier3", False, "江苏省", "南通市"): [("通州区", "320612")],
        ("tier3", False, "河南省", "洛阳市"): [("洛龙区", "410311")],
        ("tier3", False, "安徽省", "芜湖市"): [("镜湖区", "340202")],
        ("tier3", False, "江西省", "赣州市"): [("章贡区", "360702")],
        ("tier3", False, "湖北省", "宜昌市"): [("西陵区", "420502")],
        ("tier3", True, "福建省", "泉州市"): [("丰泽区", "350503")],
        ("tier3", True, "广东省", "惠州市"): [("惠城区", "441302")],
        ("tier3", True, "广东省", "中山市"): [("石岐街道", "442000")],
        ("tier3", True, "广东省", "汕头市"): [("龙湖区", "440507")],
        ("tier3", True, "广东省", "湛江市"): [("赤坎区", "440802")],
        ("tier3", True, "广西壮族自治区", "柳州市"): [("城中区", "450202")],
        ("tier3", True, "广西壮族自治区", "桂林市"): [("秀峰区", "450302")],
        ("rural", False, "河南省", "周口市"): [("郸城县", "411625")],
        ("rural", False, "山东省", "菏泽市"): [("曹县", "371721")],
        ("rural", False, "江西省", "赣州市"): [("于都县", "360731")],
        ("rural", False, "安徽省", "阜阳市"): [("临泉县", "341221")],
        ("rural", False, "四川省", "南充市"): [("仪陇县", "511324")],
        ("rural", False, "浙江省", "丽水市"): [("缙云县", "331122")],
        ("rural", False, "江苏省", "宿迁市"): [("沭阳县", "321322")],
        ("rural", False, "河北省", "保定市"): [("涞源县", "130630")],
        ("rural", True, "广东省", "梅州市"): [("五华县", "441424")],
        ("rural", True, "广西壮族自治区", "桂林市"): [("阳朔县", "450321")],
        ("rural", True, "福建省", "宁德市"): [("霞浦县", "350921")],
    }
    # fmt: on
    return tuple(
        Place(province, city, district, code, tier, south)
        for (tier, south, province, city), districts in table.items()
        for district, code in districts
    )


PLACES = _places()
# Share of customers per tier: SMEs sell most in tier-2/3 cities.
TIER_WEIGHTS = {"tier1": 0.22, "tier2": 0.38, "tier3": 0.25, "rural": 0.15}

STREETS = (
    "人民路", "解放路", "建设路", "中山路", "和平路", "新华路", "文化路", "胜利路", "长江路", "黄河路",
    "科技园路", "创业大道", "工业大道", "学府路", "滨江路", "湖滨路", "朝阳路", "光明路", "迎宾大道", "东风路",
)  # fmt: skip
VILLAGES = ("王庄村", "李家村", "张湾村", "新河村", "东岗村", "柳树屯", "石桥村", "杨楼村")
ESTATES = ("阳光花园", "锦绣家园", "翠苑小区", "万科城", "碧桂园", "金地格林", "幸福里", "香樟苑", "滨江花园")
PARKS = ("科技园", "工业园", "高新区创新中心", "软件园", "物流园", "经济开发区")

# Company name parts: trade names (字号) are made from two of these characters.
TRADE_CHARS = "恒通华瑞鑫盛泰和创新宏达远航博信安德瑞丰嘉禾金辉腾飞永兴正源同济天成隆锦程明辉润众合立宇中联海"
# Words that follow the trade name, by industry code.
INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "制造业": ("精密机械", "电子科技", "自动化设备", "新材料", "模具制造", "电气"),
    "批发和零售业": ("商贸", "贸易", "供应链", "电器销售"),
    "信息传输、软件和信息技术服务业": ("信息技术", "软件", "网络科技", "数据服务"),
    "建筑业": ("建设工程", "建筑安装", "装饰工程"),
    "交通运输、仓储和邮政业": ("物流", "仓储", "运输"),
    "住宿和餐饮业": ("餐饮管理", "酒店管理"),
    "科学研究和技术服务业": ("检测技术", "工程技术", "研究院"),
    "卫生和社会工作": ("医疗器械", "健康管理"),
    "农、林、牧、渔业": ("农业科技", "生态农业"),
    "租赁和商务服务业": ("企业管理咨询", "会展服务"),
}
# Share of company customers per industry (the seller is an industrial-automation / smart-device SME).
INDUSTRY_WEIGHTS: dict[str, float] = {
    "制造业": 0.36,
    "批发和零售业": 0.18,
    "信息传输、软件和信息技术服务业": 0.1,
    "建筑业": 0.08,
    "交通运输、仓储和邮政业": 0.06,
    "住宿和餐饮业": 0.05,
    "科学研究和技术服务业": 0.05,
    "卫生和社会工作": 0.04,
    "农、林、牧、渔业": 0.04,
    "租赁和商务服务业": 0.04,
}
COMPANY_FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")

EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "outlook.com", "139.com")
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "166", "173", "176", "177", "178", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip


@dataclass(frozen=True)
class Product:
    """A catalogue item: name, category, list price in fen, and who typically buys it."""

    name: str
    category: str
    price_fen: int
    consumer: bool


PRODUCTS: tuple[Product, ...] = (
    Product("温湿度传感器", "传感器", 18_000, False),
    Product("压力变送器", "传感器", 120_000, False),
    Product("光电传感器", "传感器", 26_000, False),
    Product("工业传感器套装", "传感器", 380_000, False),
    Product("PLC控制器", "工控设备", 680_000, False),
    Product("变频器", "工控设备", 450_000, False),
    Product("触摸屏HMI", "工控设备", 290_000, False),
    Product("伺服电机", "工控设备", 560_000, False),
    Product("智能门锁", "智能家居", 169_900, True),
    Product("智能音箱", "智能家居", 39_900, True),
    Product("扫地机器人", "智能家居", 249_900, True),
    Product("智能摄像头", "智能家居", 29_900, True),
    Product("智能灯具套装", "智能家居", 89_900, True),
    Product("新风净化器", "智能家居", 459_900, True),
    Product("激光打印机", "办公设备", 189_900, True),
    Product("投影仪", "办公设备", 329_900, True),
    Product("会议平板", "办公设备", 1_280_000, False),
    Product("硒鼓", "耗材配件", 29_900, True),
    Product("净化器滤芯", "耗材配件", 12_900, True),
    Product("电源适配器", "耗材配件", 8_900, True),
    Product("设备运维服务(年)", "软件与服务", 2_800_000, False),
    Product("系统集成方案", "软件与服务", 15_000_000, False),
    Product("软件授权(年)", "软件与服务", 980_000, False),
    Product("上门安装调试", "软件与服务", 80_000, True),
)
NEW_PRODUCTS = frozenset({"新风净化器", "会议平板", "智能摄像头"})

CONTACT_TITLES = (
    ("采购经理", "采购部"), ("采购专员", "采购部"), ("总经理", "总经办"), ("技术总监", "技术部"),
    ("设备工程师", "设备部"), ("财务主管", "财务部"), ("行政主管", "行政部"), ("项目经理", "工程部"),
)  # fmt: skip
CONTRACT_TITLES = ("年度采购框架协议", "设备供货合同", "运维服务合同", "系统集成项目合同", "战略合作协议")
INTERACTION_TOPICS: dict[str, tuple[str, ...]] = {
    "visit": ("季度拜访", "新品演示", "项目需求调研", "合同条款沟通"),
    "call": ("订单跟进", "回访满意度", "报价确认", "交期确认"),
    "consultation": ("产品选型咨询", "价格咨询", "技术参数咨询", "安装条件咨询"),
    "complaint": ("到货延迟", "产品故障", "发票错误", "服务态度", "安装质量问题"),
    "after_sales": ("上门维修", "软件升级", "配件更换", "使用培训"),
}
RESOLUTIONS: dict[str, tuple[str, ...]] = {
    "complaint": ("已道歉并补发", "已安排工程师上门处理", "已重开发票", "已退款", "处理中"),
    "after_sales": ("已修复", "已更换配件", "已完成升级", "已培训"),
}
NEED_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "product_purchase": ("计划采购一批设备", "替换旧设备", "扩充产线需要补货"),
    "technical_service": ("需要设备运维支持", "需要安装调试服务", "希望提供培训"),
    "solution": ("产线自动化改造方案", "智能仓储整体方案", "门店智能化方案"),
    "strategic": ("长期战略合作意向", "区域独家代理洽谈"),
}
